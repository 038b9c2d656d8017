"""What went wrong with a submission: the integrity flags, the report, and short failure messages.

Flags (one word each, in the report's ``flags`` column):

- ``notebook_unreadable``: a notebook is not JSON or not a valid notebook (the submission is not graded);
- ``notebook_missing``: a notebook of the assignment was not submitted (nbgrader scores it 0);
- ``test_cell_changed`` / ``test_cell_deleted``: a test cell differs from the released one or is gone
  (nbgrader grades with the original test cell anyway; the flag says someone tried);
- ``tampering``: student code reassigns what the tests rely on: attributes of modules (``numpy.testing``,
  ``torch.allclose``, ``builtins``...) or builtin / test helper names (``str = ...``, ``def isinstance``),
  or submitted files that would replace a module (``numpy.py``, ``course/``), or code that reaches into
  what the kernel reports to the grader (:func:`course.grading.tampering.reaches_into_grading`: the
  notebook's guarded cells are then scored 0 and held for the instructor's review);
- ``planted_file``: a kernel made a symbolic link, FIFO, device, hard link or folder named like a notebook in its
  working folder (a try at steering a write of the grader's; grading never follows them);
- ``cell_timeout``, ``kernel_died``, ``memory_cap``, ``output_truncated``: what happened while it ran.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

from course.grading.files import UnsafeFile, read_regular
from course.grading.tampering import (imported_modules, learner_cells, protected_names, reaches_into_grading,
                                      shadowing, tampering)
from course.protocol import grade_id as _grade_id
from course.protocol import is_test_cell as _is_test

FLAGS: dict[str, str] = {
    "notebook_unreadable": "a notebook is not a readable notebook file",
    "notebook_missing": "a notebook of the assignment was not submitted",
    "test_cell_changed": "a test cell differs from the released version",
    "test_cell_deleted": "a test cell was deleted",
    "tampering": "code reassigns testing, comparison or builtin functions, or reaches into what the kernel "
                 "reports (its guarded cells are then held for review)",
    "planted_file": "a kernel made a link, FIFO, device or notebook-named folder (grading never follows them)",
    "cell_timeout": "a cell ran longer than the time limit and was stopped",
    "kernel_died": "the kernel died (memory or CPU cap, or the code killed it)",
    "memory_cap": "a cell ran out of memory (the kernel's memory cap)",
    "output_truncated": "a cell printed more than the output limit",
}
TRUNCATED = "... Output truncated ..."


@dataclass
class Inspection:
    """What reading a submission (before it runs) found."""

    flags: set[str] = field(default_factory=set)
    details: list[str] = field(default_factory=list)
    #: notebook -> why its guards cannot be believed (its code reaches into what the kernel reports)
    hold: dict[str, str] = field(default_factory=dict)

    @property
    def gradable(self) -> bool:
        return "notebook_unreadable" not in self.flags


def inspect_submission(folder: Path, released: dict[str, Any], source: dict[str, Any]) -> Inspection:
    """Compare a submitted folder (the grader's own copy: regular files only) with the released notebooks."""
    found = Inspection(details=shadowing(folder))
    found.flags |= {"tampering"} if found.details else set()
    for name, rel in sorted(released.items()):
        path = folder / f"{name}.ipynb"
        if not path.is_file():
            found.flags.add("notebook_missing")
            found.details.append(f"{name}.ipynb: not submitted")
            continue
        try:
            nb = nbformat.reads(read_regular(path).decode("utf-8"), as_version=4)
        except (Exception, UnsafeFile) as exc:  # not JSON, not a notebook, bad encoding: all the same here
            found.flags.add("notebook_unreadable")
            found.details.append(f"{name}.ipynb: unreadable ({type(exc).__name__}: {str(exc)[:120]})")
            continue
        submitted = {_grade_id(c): c for c in nb.cells if _grade_id(c)}
        originals = {_grade_id(c): c.source.strip() for c in source[name].cells if _is_test(c)}
        for cell in filter(_is_test, rel.cells):
            gid = _grade_id(cell)
            if gid not in submitted:
                found.flags.add("test_cell_deleted")
                found.details.append(f"{name}: test cell {gid} deleted")
            elif submitted[gid].source.strip() not in {cell.source.strip(), originals.get(gid, "")}:
                found.flags.add("test_cell_changed")
                found.details.append(f"{name}: test cell {gid} changed")
        protected = protected_names(source[name])
        allowed = imported_modules(source[name])
        reaching: list[str] = []
        for cell in learner_cells(nb, source[name]):  # a cell as the course provides it is not the learner's code
            for what in tampering(cell.source, protected):
                found.flags.add("tampering")
                found.details.append(f"{name}: {_grade_id(cell) or 'a cell'} {what}")
            reaching += [f"{_grade_id(cell) or 'a cell'} {what}" for what in reaches_into_grading(cell.source, allowed)]
        if reaching:
            found.flags.add("tampering")
            found.hold[name] = "the notebook's code reaches into what the kernel reports to the grader (" + \
                "; ".join(reaching[:3]) + (f"; {len(reaching) - 3} more" if len(reaching) > 3 else "") + ")"
            found.details.append(f"{name}: guarded cells {'held for review'}: {found.hold[name]}")
    return found


def inspect_executed(nb: Any, max_lines: int = 1000) -> set[str]:
    """Flags read from an autograded notebook's outputs. ``max_lines`` is nbgrader's ``LimitOutput.max_lines``:
    a cell whose printed lines exceed it is cut by that step, which may run before or after this one."""
    flags: set[str] = set()
    for cell in nb.cells:
        printed = sum(len(o.get("text", "").split("\n")) for o in cell.get("outputs", [])
                      if o.get("output_type") == "stream")
        if max_lines >= 0 and printed > max_lines:
            flags.add("output_truncated")
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" and "Timeout" in str(out.get("ename", "")):
                flags.add("cell_timeout")
            if out.get("output_type") == "error" and "DeadKernel" in str(out.get("ename", "")):
                flags.add("kernel_died")
            if out.get("output_type") == "error" and out.get("ename") == "MemoryError":
                flags.add("memory_cap")
            if out.get("output_type") == "stream" and TRUNCATED in out.get("text", ""):
                flags.add("output_truncated")
    return flags


@dataclass
class Row:
    """One line of the integrity report."""

    student: str
    status: str  # "graded", "skipped" (already graded) or "NOT GRADED"
    score: float | None = None
    max_score: float | None = None
    flags: set[str] = field(default_factory=set)
    details: list[str] = field(default_factory=list)
    seconds: float = 0.0
    items: list[dict] = field(default_factory=list)  # per scored item (ITEM_COLUMNS), for the item analysis
    checksums: dict[str, str] = field(default_factory=dict)  # staged file -> SHA-256, checked before recording


ITEM_COLUMNS = ("student", "notebook", "cell", "item", "kind", "correct", "chosen", "points", "earned")


def write_items(rows: list[Row], csv_path: Path) -> None:
    """``items.csv``: what each graded submission got right or wrong, item by item (instructors only).

    Rows of students not graded in this run (kept from an earlier run) stay as they were.
    """
    regraded = {r.student for r in rows if r.status != "skipped"}
    kept: list[dict] = []
    if csv_path.is_file():
        with csv_path.open(newline="") as fh:
            kept = [r for r in csv.DictReader(fh) if r.get("student") not in regraded]
    fresh = [{"student": r.student, **item} for r in rows if r.status == "graded" for item in r.items]
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with csv_path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=ITEM_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(sorted(kept + fresh, key=lambda r: (r["student"], r["notebook"])))


def write_report(rows: list[Row], csv_path: Path) -> str:
    """Write the CSV and return the readable summary (also written next to it as ``.txt``)."""
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with csv_path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["student", "status", "score", "max_score", "flags", "details", "seconds"])
        for r in rows:
            writer.writerow([r.student, r.status, "" if r.score is None else round(r.score, 3),
                             "" if r.max_score is None else r.max_score, ";".join(sorted(r.flags)),
                             " | ".join(r.details), round(r.seconds, 1)])
    lines = [f"{'student':<24} {'status':<11} {'score':>13}  flags"]
    for r in rows:
        score = "-" if r.score is None else f"{r.score:g} / {r.max_score:g}"
        lines.append(f"{r.student:<24} {r.status:<11} {score:>13}  {', '.join(sorted(r.flags)) or 'ok'}")
        lines += [f"{'':<24}   - {d}" for d in r.details]
    counts = {f: sum(f in r.flags for r in rows) for f in FLAGS}
    lines.append("")
    lines += [f"{n:>4} x {f}: {FLAGS[f]}" for f, n in counts.items() if n]
    not_graded = [r.student for r in rows if r.status == "NOT GRADED"]
    lines.append(f"{len(rows)} submissions, {len(not_graded)} not graded" +
                 (f" ({', '.join(not_graded)}): see details" if not_graded else ""))
    summary = "\n".join(lines)
    csv_path.with_suffix(".txt").write_text(summary + "\n")
    return summary


def short_message(ename: str, evalue: str) -> str:
    """One readable line for a failed test."""
    evalue = re.sub(r"\x1b\[[0-9;]*m", "", evalue).strip()
    if "Timeout" in ename:
        return "Stopped: this cell ran longer than the time limit."
    if "DeadKernel" in ename:
        return "The notebook stopped: the kernel died (it may have used too much memory)."
    if ename == "MemoryError":
        return "Stopped: your code used more memory than allowed."
    if ename == "AssertionError":
        return f"Test failed: {evalue}" if evalue else "Test failed: a check on your answer did not hold."
    if ename == "NameError":
        return f"Test failed: {evalue}. Did the cell that defines it run without errors?"
    return f"Test failed with {ename}: {evalue[:300]}"


class ShortFailureMessages(Preprocessor):
    """Feedback: a test cell's error becomes one readable line (its traceback would show hidden tests)."""

    enabled = Bool(True).tag(config=True)

    def preprocess_cell(self, cell: Any, resources: Any, index: int) -> tuple[Any, Any]:
        if _is_test(cell):
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    out["traceback"] = [short_message(out.get("ename", ""), out.get("evalue", ""))]
        return cell, resources
