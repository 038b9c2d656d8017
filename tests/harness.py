"""Helpers the tests share: build a throw-away nbgrader course, submit notebooks, autograde, read results.

Each test course is a copy of this repository's ``nbgrader_config.py`` and ``source/`` in a
temporary folder, so tests never touch the real gradebook, ``release/`` or ``submitted/``.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from courses import (BIN, METRICS_MIME, REPO, answered, assignments, autograded_notebook,  # noqa: F401
                                   errors, grade, make_course, metrics, nbgrader, notebooks, released_notebook,
                                   report_rows, source_notebook, submit)


@dataclass
class CellGrade:
    notebook: str
    name: str
    score: float | None
    max_score: float
    autograded: bool
    needs_manual_grade: bool


@dataclass
class StudentResult:
    student: str
    cells: list[CellGrade] = field(default_factory=list)

    @property
    def auto_score(self) -> float:
        return sum(c.score or 0 for c in self.cells if c.autograded)

    @property
    def auto_max(self) -> float:
        return sum(c.max_score for c in self.cells if c.autograded)

    def cell(self, name: str) -> CellGrade:
        found = [c for c in self.cells if c.name == name]
        assert found, f"no grade cell {name!r}; cells: {[c.name for c in self.cells]}"
        return found[0]


def require_bwrap() -> None:
    """Skip a test that grades in the sandbox where bubblewrap is missing; in CI, fail it instead."""
    import pytest

    if shutil.which("bwrap") is None:
        reason = "bubblewrap is not installed (bash .ci/install-grading)"
        if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
            pytest.fail(reason + " -- CI must run this test, not skip it", pytrace=False)
        pytest.skip(reason)


def results(root: Path, assignment: str) -> dict[str, StudentResult]:
    """Every graded student's cell grades for ``assignment``, read from the gradebook."""
    from nbgrader.api import Gradebook

    out: dict[str, StudentResult] = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for sub in gb.assignment_submissions(assignment):
            res = StudentResult(sub.student.id)
            for nb in sub.notebooks:
                solution_names = {c.name for c in nb.notebook.solution_cells}
                for g in nb.grades:
                    res.cells.append(CellGrade(
                        notebook=nb.name, name=g.name, score=g.score, max_score=g.max_score,
                        autograded=g.name not in solution_names and g.cell_type == "code",
                        needs_manual_grade=g.needs_manual_grade,
                    ))
            out[sub.student.id] = res
    return out


@dataclass
class GradedRun:
    """One assignment graded in a throw-away course with two students:
    ``solution`` (the source notebooks, solutions in place) and ``blank`` (the released notebooks, unanswered)."""

    root: Path
    assignment: str
    seconds: dict[str, float]
    results: dict[str, StudentResult]
    report: dict[str, dict[str, str]] = field(default_factory=dict)
    log: str = ""

    def notebook(self, student: str, name: str) -> Any:
        return autograded_notebook(self.root, student, self.assignment, name)

    def metrics(self, student: str = "solution") -> dict[str, float]:
        merged: dict[str, float] = {}
        for name in notebooks(self.assignment):
            merged.update(metrics(self.notebook(student, name)))
        return merged


def grade_solution_and_blank(root: Path, assignment: str) -> GradedRun:
    """Build a course for ``assignment``; submit ``solution`` (the released notebooks with the solutions filled
    in, as a good student hands them in) and ``blank`` (the released notebooks, unanswered); grade both with
    the course's grader, which first records the reference from the instructor's notebooks."""
    make_course(root, [assignment])
    names = notebooks(assignment)
    solved = {n: answered(released_notebook(root, assignment, n), source_notebook(assignment, n)) for n in names}
    submit(root, "solution", assignment, {f"{n}.ipynb": solved[n] for n in names})
    submit(root, "blank", assignment, {f"{n}.ipynb": root / "release" / assignment / f"{n}.ipynb" for n in names})
    proc = grade(root, assignment)
    rows = report_rows(root, assignment)
    seconds = {student: float(row["seconds"]) for student, row in rows.items()}
    run = GradedRun(root, assignment, seconds, results(root, assignment))
    run.report = rows
    run.log = proc.stdout
    return run


def notebook_seconds(nb: Any) -> float:
    """Wall time of an executed notebook, from the first cell's start to the last cell's reply."""
    starts, ends = [], []
    for cell in nb.cells:
        timing = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in timing and "shell.execute_reply" in timing:
            starts.append(dt.datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00")))
            ends.append(dt.datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00")))
    assert starts, "the notebook carries no execution timing"
    return (max(ends) - min(starts)).total_seconds()


def solution_regions(text: str, inside: bool = True) -> list[str]:
    """The lines between ``### BEGIN SOLUTION`` / ``### END SOLUTION`` and inside hidden-test blocks
    (with ``inside=False``: the lines outside them, markers excluded)."""
    out, within = [], False
    for line in text.splitlines():
        if "BEGIN SOLUTION" in line or "BEGIN HIDDEN TESTS" in line:
            within = True
        elif "END SOLUTION" in line or "END HIDDEN TESTS" in line:
            within = False
        elif within == inside:
            out.append(line)
    return out


# --- editing notebooks into submissions ----------------------------------------------------------

def with_cell(nb: Any, grade_id: str, source: str) -> Any:
    """A copy of ``nb`` whose cell ``grade_id`` holds ``source``."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = source
            return nb
    raise KeyError(grade_id)


def without_cell(nb: Any, grade_id: str) -> Any:
    """A copy of ``nb`` without the cell ``grade_id``."""
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != grade_id]
    return nb


def template_keys(nb: Any, grade_id: str) -> list[str]:
    """The keys of the answer dict that cell ``grade_id`` offers as a template (``'key': ...,`` lines)."""
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return [line.split("'")[1] for line in cell.source.splitlines() if line.strip().endswith(": ...,")]
    raise KeyError(grade_id)
