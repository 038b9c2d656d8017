"""``python -m course.grading.analysis ASSIGNMENT`` (``make report``): what the class understood.

Reads what grading left (``reports/<assignment>/items.csv``: each submission's items, right or wrong and
the answer chosen; ``integrity.csv``; the scores and manual grading in ``gradebook.db``) and writes, in
``reports/<assignment>/``:

- ``analysis.html``: one self-contained page (figures embedded as PNG, nothing fetched);
- ``analysis-summary.csv`` (the class's numbers), ``analysis-items.csv`` (per item),
  ``analysis-options.csv`` (answers chosen, per answer item), ``analysis-checks.csv`` (failed checks of
  function cells) and ``analysis-manual.csv`` (manual grading still to do): the page's numbers.

The statistics are in :mod:`course.grading.itemstats`, the page in :mod:`course.grading.analysis_page`.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass, field
from pathlib import Path

from course.grading.itemstats import Item, Reliability, Row, analyse, describe

ITEM_COLUMNS = ["student", "notebook", "cell", "item", "kind", "correct", "chosen", "points", "earned"]
INTEGRITY_COLUMNS = ["student", "status", "score", "max_score", "flags", "details", "seconds"]


class ReportError(Exception):
    """Something the instructor must fix before the report can be made (the message says what)."""


@dataclass
class ClassRecord:
    """Everything the report is made from."""

    assignment: str
    rows: list[Row]
    integrity: list[dict[str, str]]
    scores: dict[str, float] = field(default_factory=dict)  # student -> score (gradebook, or integrity.csv)
    max_score: float | None = None
    missing: list[str] = field(default_factory=list)  # students in the gradebook who submitted nothing
    manual: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (notebook, cell) -> students
    source: str = "integrity.csv"  # where the scores were read


@dataclass
class Analysis:
    record: ClassRecord
    students: list[str]
    items: list[Item]
    reliability: Reliability
    distribution: dict[str, float]
    counts: dict[str, int]
    flags: dict[str, list[str]]  # integrity flag -> students
    unrecorded: list[str]  # graded students with no items recorded


def read_csv(path: Path, columns: list[str], what: str) -> list[dict[str, str]]:
    """The rows of a CSV file the grader wrote, with a clear error when it is missing or not its shape."""
    if not path.is_file():
        raise ReportError(f"{path} does not exist: {what}")
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise ReportError(f"{path} is not the grader's file: it lacks the column(s) {', '.join(missing)}")
        return list(reader)


def parse_rows(raw: list[dict[str, str]], path: Path) -> list[Row]:
    rows = []
    for n, r in enumerate(raw, start=2):
        try:
            if r["kind"] not in ("answer", "value", "guard") or r["correct"] not in ("0", "1"):
                raise ValueError(f"kind {r['kind']!r}, correct {r['correct']!r}")
            rows.append(Row(r["student"], r["notebook"], r["cell"], r["item"], r["kind"], r["correct"] == "1",
                            r["chosen"] or "", float(r["points"]), float(r["earned"])))
        except (ValueError, TypeError) as exc:
            raise ReportError(f"{path}, line {n}: not a row the grader writes ({exc})") from None
    return rows


def read_gradebook(record: ClassRecord, root: Path) -> None:
    """Scores, maximum, missing students and manual grading still to do, from ``gradebook.db``."""
    db = root / "gradebook.db"
    if not db.is_file():
        return
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{db}") as gb:
        try:
            assignment = gb.find_assignment(record.assignment)
        except MissingEntry:
            raise ReportError(f"{record.assignment} is not in {db}: grade it first "
                              f"(make autograde ASSIGNMENT={record.assignment})") from None
        record.max_score = float(assignment.max_score)
        submitted = set()
        for sub in assignment.submissions:
            submitted.add(sub.student.id)
            record.scores[sub.student.id] = float(sub.score)
            for nb in sub.notebooks:
                for grade in nb.grades:
                    if grade.needs_manual_grade:
                        record.manual.setdefault((nb.name, grade.name), []).append(sub.student.id)
        record.missing = sorted(s.id for s in gb.students if s.id not in submitted)
        record.source = "gradebook"


def load(root: Path, assignment: str) -> ClassRecord:
    """Read items.csv, integrity.csv and the gradebook of ``assignment`` in the course folder ``root``."""
    folder = root / "reports" / assignment
    hint = f"grade the assignment first (make autograde ASSIGNMENT={assignment})"
    items_path = folder / "items.csv"
    rows = parse_rows(read_csv(items_path, ITEM_COLUMNS, hint), items_path)
    integrity = read_csv(folder / "integrity.csv", INTEGRITY_COLUMNS, hint)
    record = ClassRecord(assignment, rows, integrity)
    read_gradebook(record, root)
    handed_in = {r["student"] for r in integrity}
    record.missing = [s for s in record.missing if s not in handed_in]  # NOT GRADED is not missing
    if record.source != "gradebook":
        for r in integrity:
            if r["status"] != "NOT GRADED" and r["score"]:
                record.scores[r["student"]] = float(r["score"])
                record.max_score = float(r["max_score"]) if r["max_score"] else record.max_score
    return record


def analyse_class(record: ClassRecord) -> Analysis:
    students, items, _, rel = analyse(record.rows)
    status = [r["status"] for r in record.integrity]
    counts = {"submitted": len(record.integrity), "graded": sum(s in ("graded", "skipped") for s in status),
              "not graded": status.count("NOT GRADED"), "missing": len(record.missing),
              "needing manual grading": len({s for names in record.manual.values() for s in names})}
    flags: dict[str, list[str]] = {}
    for r in record.integrity:
        for f in filter(None, r["flags"].split(";")):
            flags.setdefault(f, []).append(r["student"])
    graded = [r["student"] for r in record.integrity if r["status"] in ("graded", "skipped")]
    unrecorded = sorted(set(graded) - set(students))
    scores = [record.scores[s] for s in sorted(record.scores)]
    return Analysis(record, students, items, rel, describe(scores), counts, flags, unrecorded)


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"


def write_csvs(a: Analysis, folder: Path) -> list[Path]:
    """The page's numbers as CSV files in ``folder``."""
    rel = a.reliability
    summary = [("students_graded_with_items", len(a.students)), *[(k.replace(" ", "_"), v) for k, v in a.counts.items()],
               *[(f"score_{k}", _fmt(v)) for k, v in a.distribution.items()], ("max_score", _fmt(a.record.max_score)),
               ("scores_from", a.record.source), ("items", rel.n_items), ("cronbach_alpha", _fmt(rel.alpha)),
               ("alpha_95_low", _fmt(rel.low)), ("alpha_95_high", _fmt(rel.high)), ("sem_points", _fmt(rel.sem))]
    tables: dict[str, tuple[list[str], list[list]]] = {
        "analysis-summary.csv": (["measure", "value"], [list(r) for r in summary]),
        "analysis-items.csv": (
            ["notebook", "cell", "item", "kind", "points", "students", "right", "difficulty", "discrimination", "flags",
             "top_wrong_answer", "top_wrong_count"],
            [[i.notebook, i.cell, i.label, i.kind, _fmt(i.weight), i.n, i.right, _fmt(i.difficulty),
              _fmt(i.discrimination), ";".join(i.flags), *(i.top_wrong or ("", ""))] for i in a.items]),
        "analysis-options.csv": (
            ["notebook", "cell", "item", "answer", "students", "right"],
            [[i.notebook, i.cell, i.label, o, c, int(o in i.right_options)]
             for i in a.items for o, c in i.options.most_common()]),
        "analysis-checks.csv": (
            ["notebook", "cell", "check", "failed_for"],
            [[i.notebook, i.cell, chk, c] for i in a.items for chk, c in i.failed_checks.most_common()]),
        "analysis-manual.csv": (
            ["notebook", "cell", "students_to_grade"],
            [[nb, cell, len(s)] for (nb, cell), s in sorted(a.record.manual.items())]),
        "analysis-flags.csv": (["flag", "count", "students"],
                               [[f, len(s), ";".join(s)] for f, s in sorted(a.flags.items())]),
    }
    written = []
    for name, (header, body) in tables.items():
        with (folder / name).open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(body)
        written.append(folder / name)
    return written


def report(root: Path, assignment: str) -> tuple[Path, Analysis]:
    """Make the page and its CSV files; return the page's path and what is on it."""
    from course.grading.analysis_page import render

    record = load(root, assignment)
    if not record.rows:
        raise ReportError(f"{root / 'reports' / assignment / 'items.csv'} holds no graded item: "
                          "nothing to analyse yet")
    result = analyse_class(record)
    folder = root / "reports" / assignment
    write_csvs(result, folder)
    page = folder / "analysis.html"
    page.write_text(render(result))
    return page, result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m course.grading.analysis",
                                description="Item analysis of a graded assignment (reports/<assignment>/analysis.html).")
    p.add_argument("assignment")
    p.add_argument("--root", type=Path, default=Path("."), help="course folder (default: here)")
    a = p.parse_args(argv)
    try:
        page, result = report(a.root, a.assignment)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    flagged = [i for i in result.items if i.flags]
    print(f"{len(result.students)} submissions, {len(result.items)} items, {len(flagged)} flagged. Report: {page}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
