"""The item-analysis page (``reports/<assignment>/analysis.html``) of :mod:`course.grading.analysis`."""

from __future__ import annotations

from course.grading.htmlpage import esc, figure, number, page, table
from course.grading.itemstats import NEGATIVE, NO_ANSWER, TOO_EASY, TOO_HARD, Item, how_to_read

FLAG_TEXT = {
    "too_easy": f"more than {TOO_EASY:.0%} right: it tells you little about who understood",
    "too_hard": f"fewer than {TOO_HARD:.0%} right: an unclear question, or something not yet taught",
    "negative_discrimination": "students with higher scores elsewhere got it wrong more often: "
                               "check the key and the wording",
    "popular_wrong_answer": "one wrong answer was chosen by more students than the right one: "
                            "a misconception to teach again (or a wrong key)",
}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _histogram(scores: list[float], max_score: float | None, dist: dict[str, float]) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3))
    top = max_score or (max(scores) if scores else 1)
    ax.hist(scores, bins=min(20, max(5, len(scores) // 2)), range=(0, top), color="#4a7ab0", edgecolor="white")
    ax.axvline(dist["mean"], color="#a40000", label=f"mean {dist['mean']:.1f}")
    ax.axvline(dist["median"], color="#222", linestyle="--", label=f"median {dist['median']:.1f}")
    ax.set_xlabel("score (points)")
    ax.set_ylabel("students")
    ax.legend()
    return figure(fig, f"Histogram of {len(scores)} scores out of {top:g}: mean {dist['mean']:.1f}, "
                       f"median {dist['median']:.1f}, quartiles {dist['q1']:.1f} and {dist['q3']:.1f}.")


def _scatter(items: list[Item]) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.axvspan(TOO_EASY, 1.02, color="#eeeeee")
    ax.axvspan(-0.02, TOO_HARD, color="#eeeeee")
    ax.axhline(NEGATIVE, color="#a40000", linewidth=1)
    for n, it in enumerate(items, start=1):
        d = it.discrimination if it.discrimination is not None else 0.0
        ax.scatter(it.difficulty, d, color="#a40000" if it.flags else "#4a7ab0", marker="o" if it.discrimination
                   is not None else "x")
        ax.annotate(str(n), (it.difficulty, d), textcoords="offset points", xytext=(4, 3), fontsize=8)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("difficulty (share right)")
    ax.set_ylabel("discrimination (item-rest r)")
    flagged = sum(bool(i.flags) for i in items)
    return figure(fig, f"Difficulty against discrimination of {len(items)} items, numbered as in the table; "
                       f"{flagged} flagged items in red; shaded: too easy or too hard; x: discrimination undefined.")


def _options_chart(items: list[Item]) -> str:
    shown = [i for i in items if "popular_wrong_answer" in i.flags][:6]
    if not shown:
        return ""
    plt = _plt()
    fig, axes = plt.subplots(len(shown), 1, figsize=(7, 1.2 + 1.1 * len(shown)), squeeze=False)
    for ax, it in zip(axes[:, 0], shown):
        opts = it.options.most_common(6)
        ax.barh([o[:30] for o, _ in opts][::-1], [c for _, c in opts][::-1],
                color=["#4a7ab0" if o in it.right_options else "#a40000" for o, _ in opts][::-1])
        ax.set_title(f"{it.cell}: {it.label}", fontsize=9, loc="left")
    axes[-1, 0].set_xlabel("students (blue: right, red: wrong)")
    fig.tight_layout()
    return figure(fig, "Answers chosen for the items where a wrong answer beat the right one: " + "; ".join(
        f"{it.label}: {it.top_wrong[0]} by {it.top_wrong[1]}, right by {it.right}" for it in shown if it.top_wrong))


def _flags(it: Item) -> str:
    return ", ".join(f'<span class="flag" title="{esc(FLAG_TEXT[f])}">{esc(f)}</span>' for f in it.flags)


def _class_section(a) -> str:
    rec, dist = a.record, a.distribution
    out = ["<h2>The class</h2>", table(["submissions", "count"], [[k, v] for k, v in a.counts.items()])]
    if a.unrecorded:
        out.append(f'<p class="note">{len(a.unrecorded)} graded submission(s) have no recorded items and are not in '
                   f"the item statistics ({esc(', '.join(a.unrecorded))}): they were graded before items were "
                   f"recorded; regrade them with <code>make autograde ASSIGNMENT={esc(rec.assignment)} FORCE=1</code>.</p>")
    if dist:
        scores = [rec.scores[s] for s in sorted(rec.scores)]
        out.append(f"<p>Scores (from the {esc(rec.source)}, manual grades included where given), out of "
                   f"{number(rec.max_score, 1)}:</p>")
        out.append(table(["n", "mean", "median", "lower quartile", "upper quartile", "standard deviation", "min", "max"],
                         [[int(dist["n"]), *(round(dist[k], 2) for k in ("mean", "median", "q1", "q3", "sd", "min", "max"))]]))
        out.append(_histogram(scores, rec.max_score, dist))
    out.append("<h3>Integrity flags</h3>")
    out.append(table(["flag", "submissions", "students"], [[f, len(s), ", ".join(s)] for f, s in sorted(a.flags.items())])
               if a.flags else "<p>No submission was flagged.</p>")
    return "\n".join(out)


def _items_section(a) -> str:
    rows = []
    for n, it in enumerate(a.items, start=1):
        rows.append([n, esc(it.notebook), esc(it.cell), f"<code>{esc(it.label)}</code>", esc(f"{it.weight:g}"),
                     f"{it.right} / {it.n}", number(it.difficulty), number(it.discrimination), _flags(it)])
    legend = "".join(f"<li><span class=flag>{esc(f)}</span>: {esc(t)}</li>" for f, t in FLAG_TEXT.items())
    return "\n".join([
        "<h2>Items</h2>",
        "<p>Each recorded answer is one item; a function cell is one item, right only when every check of it is "
        "right. <b>Difficulty</b> is the share of students who got the item right. <b>Discrimination</b> is the "
        "correlation between the item and each student's score on the <i>other</i> items (corrected item-total "
        "correlation): positive when the students who did well elsewhere got it right. Flags:</p>",
        f"<ul>{legend}</ul>",
        f"<p>Why these thresholds: items between {TOO_HARD:.0%} and {TOO_EASY:.0%} right separate students best "
        "(an item nearly everyone gets right, or wrong, cannot rank anyone), and a negative discrimination means "
        "the item disagrees with the rest of the assignment, most often through a wrong key or an ambiguous "
        "wording. The popular wrong answer is the misconception to teach again.</p>",
        table(["#", "notebook", "cell", "item", "points", "right", "difficulty", "discrimination", "flags"], rows,
              raw=True),
        _scatter(a.items),
    ])


def _answers_section(a) -> str:
    answers = [i for i in a.items if i.kind == "answer"]
    rows = []
    for it in answers:
        top = it.top_wrong
        rows.append([esc(it.cell), f"<code>{esc(it.label)}</code>", esc(", ".join(sorted(it.right_options)) or "—"),
                     f"{it.right} / {it.n}", esc(top[0]) if top else "—", top[1] if top else 0,
                     it.options.get(NO_ANSWER, 0),
                     esc("; ".join(f"{o} ×{c}" for o, c in it.options.most_common()))])
    out = ["<h2>Answers chosen</h2>",
           "<p>For each recorded answer, how often each answer was chosen. The most chosen wrong answer is the one "
           "to teach again.</p>",
           table(["cell", "item", "right answer", "right", "most chosen wrong answer", "chose it", "unanswered",
                  "all answers"], rows, raw=True) if rows else "<p>No recorded answers in this assignment.</p>",
           _options_chart(a.items)]
    functions = [i for i in a.items if i.kind == "function"]
    out.append("<h2>Function cells: checks that failed most</h2>")
    if functions:
        frows = [[esc(i.cell), f"{i.right} / {i.n}",
                  esc("; ".join(f"{c} (×{n})" for c, n in i.failed_checks.most_common(5)) or "none failed")]
                 for i in functions]
        out.append(table(["cell", "all checks right", "checks that failed most (students)"], frows, raw=True))
    else:
        out.append("<p>No function cells in this assignment.</p>")
    return "\n".join(out)


def _reliability_section(a) -> str:
    rel, rec = a.reliability, a.record
    rows = [["Cronbach's alpha (KR-20 when the items weigh the same)", number(rel.alpha)],
            ["95% interval (Feldt)", f"{number(rel.low)} to {number(rel.high)}"],
            ["standard error of measurement (points)", number(rel.sem)],
            ["items, students", f"{rel.n_items}, {rel.n_students}"]]
    manual = (table(["notebook", "cell", "submissions still to grade"],
                    [[nb, cell, len(s)] for (nb, cell), s in sorted(rec.manual.items())])
              if rec.manual else "<p>None: every answer that needs a person has been graded.</p>")
    return "\n".join(["<h2>Reliability</h2>", table(["measure", "value"], rows), f"<p>{esc(how_to_read(rel))}</p>",
                      "<h2>Manual grading still to do</h2>", manual,
                      f"<p>In the formgrader (<code>make formgrader</code>); run <code>make report "
                      f"ASSIGNMENT={esc(rec.assignment)}</code> again afterwards.</p>"])


def render(a) -> str:
    """The whole page for an :class:`course.grading.analysis.Analysis`."""
    title = f"What the class understood: {a.record.assignment}"
    body = "\n".join([
        f"<h1>{esc(title)}</h1>",
        '<p class="note">For the instructor only: this page names students and shows the right answers.</p>',
        _class_section(a), _items_section(a), _answers_section(a), _reliability_section(a),
        "<p>The same numbers are in the <code>analysis-*.csv</code> files beside this page.</p>",
    ])
    return page(title, body)
