"""Scores decided outside the learner's kernel, and notebooks made safe to show.

A test cell that hands the grader observations (``course.checks.record_answers``, ``observe``,
``require``) is scored here, in the grader's own process, after the kernel has finished:

- the *reference* is the same observations from the instructor's notebook (solutions in place),
  recorded when it is executed at the start of a grading run; it never enters a learner's kernel and
  no file students receive holds it;
- each recorded answer (one per key of an answer dict) and each observed value is an *item*. Observed
  values are all or nothing (every one must match the reference's, within its tolerance, or the cell
  scores 0, as a failed assert did); answers earn their share each (exactly equal in
  ``course.checks.canonical`` form);
- a ``require`` guard that fails, or is missing, sets the cell to 0; guards never earn points alone;
- a cell that raised keeps its error and scores 0, as in nbgrader.

The score is written into the cell as the single output nbgrader reads for partial credit; whatever
else the learner's code put into the cell's outputs cannot change it. Text on stderr (a warning) no
longer costs the points: it is shown as ordinary output and flagged. Test cells without observations
(none in the reference) are left to nbgrader's own rule and flagged ``scored_in_kernel``.

Before anything is stored, every output is cleaned for people to read: outputs that quote a hidden
test are removed (``hidden_test_text``), and active content (HTML, JavaScript, SVG) from the learner
is dropped or escaped (``active_content``), so the formgrader and feedback show only inert text and images.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field
from typing import Any

from nbformat import NotebookNode
from nbformat.v4 import new_output

from course.grading.integrity import short_message
from course.protocol import (METRICS_MIME, OBSERVATION_MIME, grade_id, is_test_cell, item_key, learner_label,
                             observations)

#: Output types that can run code or style a page when an instructor opens the notebook.
ACTIVE_MIME = ("text/html", "application/javascript", "text/javascript", "image/svg+xml",
               "application/vnd.jupyter.widget-view+json", "text/markdown", "text/latex")
SAFE_MIME = {"text/plain", "image/png", "image/jpeg", "image/gif", OBSERVATION_MIME, METRICS_MIME}
#: Markdown that could become active HTML: any tag, and javascript: / data: links.
_ACTIVE_MARKDOWN = re.compile(r"<\s*/?\s*[a-zA-Z!]|javascript\s*:|data\s*:\s*text/html|vbscript\s*:", re.I)
_LINK_SCHEME = re.compile(r"(javascript|vbscript|data)\s*:", re.I)
FAILED_PREFIX = "Checks that did not pass: "
HELD = "held for review"


def reference_of(nb: Any) -> dict[str, list[dict]]:
    """``grade_id -> observations`` of the instructor's executed notebook (test cells that record any)."""
    return {grade_id(c): observations(c) for c in nb.cells if is_test_cell(c) and observations(c)}


def _items(payloads: list[dict]) -> tuple[dict[str, dict], dict[str, bool]]:
    """Scoring items (``key -> payload`` with one ``value``) and guards (``name -> holds``)."""
    items: dict[str, dict] = {}
    guards: dict[str, bool] = {}
    for p in payloads:
        kind, name = p.get("kind"), p["name"]
        if kind == "answers" and isinstance(p.get("value"), dict):
            for key, value in p["value"].items():
                items[item_key("answers", name, key)] = {"kind": "answer", "value": value}
        elif kind == "value":
            items[item_key("value", name)] = p
        elif kind == "guard":
            guards[name] = guards.get(name, True) and p.get("value") is True
    return items, guards


def _close(got: Any, want: Any, atol: float, rtol: float) -> bool:
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(
            _close(g, w, atol, rtol) for g, w in zip(got, want))
    if isinstance(want, float):
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            return False
        if math.isnan(want):
            return math.isnan(got)
        if math.isinf(want):  # an infinity matches only the same infinity
            return got == want
        return math.isfinite(got) and abs(got - want) <= atol + rtol * abs(want)
    return got == want and got is not None


def matches(got: dict | None, want: dict) -> bool:
    """Whether a learner's item equals the reference's (tolerances are the reference's, never the learner's)."""
    if got is None or got.get("error") or got.get("value") is None:
        return False
    if want.get("kind") == "answer":
        return got.get("value") == want.get("value")
    return _close(got.get("value"), want.get("value"), float(want.get("atol", 1e-5)), float(want.get("rtol", 1e-4)))


@dataclass
class ItemResult:
    """One scored item of one cell: right or wrong, and what the learner chose (answers only)."""

    item: str
    kind: str  # "answer", "value" or "guard"
    correct: bool
    chosen: str | None = None


def judge(reference: list[dict], recorded: list[dict]) -> list[ItemResult]:
    """Every item and guard of a cell, judged against the reference (guards first)."""
    want_items, want_guards = _items(reference)
    got_items, got_guards = _items(recorded)
    results = [ItemResult(item_key("guard", g), "guard", got_guards.get(g, False)) for g in want_guards]
    for key, want in want_items.items():
        got = got_items.get(key)
        chosen = got.get("value") if want.get("kind") == "answer" and got else None
        results.append(ItemResult(key, "answer" if want.get("kind") == "answer" else "value",
                                  matches(got, want), chosen if isinstance(chosen, str) else None))
    return results


def score_cell(points: float, reference: list[dict], recorded: list[dict]) -> tuple[float, list[str]]:
    """The points a test cell earns and, for the instructor, which items missed (never the right values).

    Observed values are all or nothing, as a failed assert was: a function that is right on some hidden
    inputs only is not right. Recorded answers earn their share each (partial credit per key). A guard
    that does not hold sets the cell to 0.
    """
    earned, results = score_items(points, reference, recorded)
    return earned, [describe_miss(r) for r in results if not r.correct]


def score_items(points: float, reference: list[dict], recorded: list[dict]) -> tuple[float, list[ItemResult]]:
    """:func:`score_cell` with every item's result (for the item analysis)."""
    if not _items(reference)[0]:
        raise ValueError("the reference records only guards: a cell must observe something that cannot be guessed")
    results = judge(reference, recorded)
    missed = [r for r in results if not r.correct]
    if any(r.kind in ("guard", "value") for r in missed):
        return 0.0, results
    answers = [r for r in results if r.kind == "answer"]
    share = sum(r.correct for r in answers) / len(answers) if answers else 1.0
    return round(points * share, 4), results


def describe_miss(result: ItemResult) -> str:
    if result.kind == "guard":
        return f"property does not hold: {result.item.split(' ', 1)[1]}"
    return f"wrong or missing: {result.item}"


@dataclass
class Outcome:
    """What scoring and cleaning did to one notebook, for the integrity report."""

    flags: set[str] = field(default_factory=set)
    details: list[str] = field(default_factory=list)
    cells: dict[str, float] = field(default_factory=dict)
    #: one row per scored item: cell, item, kind, correct, chosen, points, earned (see course.protocol)
    items: list[dict] = field(default_factory=list)


def _hidden_lines(source_nb: Any) -> list[str]:
    """Lines of the hidden tests worth looking for in outputs (long enough to be specific)."""
    lines, inside = [], False
    for cell in source_nb.cells:
        if not is_test_cell(cell):
            continue
        for line in cell.source.splitlines():
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            elif inside and len(line.strip()) >= 12:
                lines.append(line.strip())
    return lines


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _texts(out: Any) -> list[str]:
    """The text of an output, without terminal colour codes (tracebacks are coloured)."""
    texts = [out.get("text", ""), out.get("evalue", ""), "\n".join(out.get("traceback", []))]
    for value in out.get("data", {}).values():
        texts.append(value if isinstance(value, str) else str(value))
    return [_ANSI.sub("", t if isinstance(t, str) else "".join(t)) for t in texts]


def _removed(note: str) -> NotebookNode:
    return new_output("stream", name="stdout", text=f"[{note}]\n")


def clean_outputs(nb: Any, source_nb: Any, outcome: Outcome) -> None:
    """Remove outputs that quote hidden tests; make learners' active content inert."""
    hidden = _hidden_lines(source_nb)
    own_markdown = {c.source for c in source_nb.cells if c.cell_type == "markdown"}
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source not in own_markdown and _ACTIVE_MARKDOWN.search(cell.source):
            cell.source = _LINK_SCHEME.sub(r"\1 (link removed)", html.escape(cell.source, quote=False))
            outcome.flags.add("active_content")
            outcome.details.append(f"{grade_id(cell) or 'a markdown cell'}: HTML in markdown shown as text")
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if any(line in text for text in _texts(out) for line in hidden):
                if out.get("output_type") == "error":  # keep the error (it decides the score), not its traceback
                    evalue = _ANSI.sub("", out.get("evalue", ""))
                    if any(line in evalue for line in hidden):
                        out["evalue"] = "a hidden test failed"
                    out["traceback"] = [short_message(out.get("ename", ""), out["evalue"])]
                    kept.append(out)
                    continue
                outcome.flags.add("hidden_test_text")
                outcome.details.append(f"{grade_id(cell) or 'a cell'}: an output quoting a hidden test was removed")
                kept.append(_removed("output removed: it quoted a hidden test"))
                continue
            data = out.get("data")
            if data is not None and set(data) - SAFE_MIME:
                active = sorted(set(data) - SAFE_MIME)
                for key in active:
                    del data[key]
                if not data:
                    data["text/plain"] = "[output removed: " + ", ".join(active) + "]"
                if any(k in ACTIVE_MIME for k in active) and is_active(active):
                    outcome.flags.add("active_content")
            kept.append(out)
        cell.outputs = kept


def is_active(mimes: list[str]) -> bool:
    """Widget views and markdown are routine (progress bars); HTML, JavaScript and SVG are not."""
    return any(m in ("text/html", "application/javascript", "text/javascript", "image/svg+xml") for m in mimes)


def _note(text: str) -> NotebookNode:
    return new_output("stream", name="stdout", text=text + "\n")


def score_notebook(nb: Any, reference: dict[str, list[dict]], outcome: Outcome, hold: str | None = None) -> None:
    """Score every test cell of an executed notebook outside the kernel; write the result into the cell.

    ``hold``: why this notebook's guards cannot be believed (its code reaches into the reporting path):
    every cell that a guard gates is then scored 0 and held for the instructor's review.
    """
    for cell in nb.cells:
        if not is_test_cell(cell):
            continue
        gid = grade_id(cell)
        points = float(cell.metadata["nbgrader"].get("points", 0))
        outputs = cell.get("outputs", [])
        errored = any(o.get("output_type") == "error" for o in outputs)
        stderr = [o for o in outputs if o.get("output_type") == "stream" and o.get("name") == "stderr"]
        for o in stderr:  # a warning is not a failure: show it as ordinary output
            o["name"] = "stdout"
            o["text"] = "[printed as a warning while testing] " + o.get("text", "")
        if stderr:
            outcome.flags.add("stderr")
            outcome.details.append(f"{gid}: printed a warning (shown as output; "
                                   + ("scored from observations)" if gid in reference and not errored
                                      else "plain nbgrader would have scored it 0)"))
        if gid not in reference:
            outcome.flags.add("scored_in_kernel")
            continue
        kept = [o for o in outputs if o.get("output_type") != "execute_result"
                and OBSERVATION_MIME not in o.get("data", {})]
        held = hold is not None and bool(_items(reference[gid])[1])
        if errored:
            results = [ItemResult(r.item, r.kind, False) for r in judge(reference[gid], [])]
            earned, missed = 0.0, ["the test cell raised an error"]
            kept = [o for o in kept if o.get("output_type") == "error"] + \
                   [o for o in kept if o.get("output_type") != "error"]
        else:
            earned, results = score_items(points, reference[gid], observations(cell))
            missed = [describe_miss(r) for r in results if not r.correct]
            if held:
                earned, missed = 0.0, [f"{HELD}: {hold}"] + missed
                outcome.flags.add("tampering")
                kept.append(_note(f"Held for review by your instructor: {hold}."))
            elif earned < points:
                labels = [learner_label(r.item) for r in results if not r.correct]
                kept.append(_note(FAILED_PREFIX + "; ".join(labels)))
            kept.append(new_output("execute_result", data={"text/plain": repr(float(earned))}, execution_count=None))
        cell.outputs = kept
        outcome.cells[gid] = earned
        outcome.items += [{"cell": gid, "item": r.item, "kind": r.kind, "correct": int(r.correct),
                           "chosen": r.chosen or "", "points": points, "earned": earned} for r in results]
        if missed and not errored:
            outcome.details.append(f"{gid}: {earned:g}/{points:g} ({'; '.join(missed[:4])}"
                                   + (f"; {len(missed) - 4} more" if len(missed) > 4 else "") + ")")
