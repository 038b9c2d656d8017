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

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
METRICS_MIME = "application/vnd.course.metrics+json"


def assignments() -> list[str]:
    """Assignment ids: the folders of ``source/`` that hold a notebook."""
    return sorted(p.name for p in (REPO / "source").iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def notebooks(assignment: str) -> list[str]:
    """The notebook names (without ``.ipynb``) of an assignment."""
    return sorted(p.stem for p in (REPO / "source" / assignment).glob("*.ipynb"))


def nbgrader(root: Path, *args: str, timeout: float = 3600, check: bool = True) -> subprocess.CompletedProcess:
    """Run the ``nbgrader`` command in the course folder ``root``."""
    env = os.environ | {"PYTHONUNBUFFERED": "1", "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run([str(BIN / "nbgrader"), *args], cwd=root, env=env, capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"nbgrader {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def make_course(root: Path, assignment_ids: list[str]) -> Path:
    """A fresh course in ``root`` with the given assignments generated into ``root/release``."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    for extra in ("autotests.yml",):
        if (REPO / extra).exists():
            shutil.copy(REPO / extra, root / extra)
    for a in assignment_ids:
        shutil.copytree(REPO / "source" / a, root / "source" / a, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        nbgrader(root, "generate_assignment", a, "--force", "--log-level=WARN")
    return root


def submit(root: Path, student: str, assignment: str, files: dict[str, Path | bytes | str | Any]) -> Path:
    """Put a student's files into ``submitted/``: paths are copied, bytes/str written, notebooks saved."""
    folder = root / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        target = folder / name
        if isinstance(content, Path):
            shutil.copy(content, target)
        elif isinstance(content, bytes):
            target.write_bytes(content)
        elif isinstance(content, str):
            target.write_text(content)
        else:
            nbformat.write(content, target)
    (folder / "timestamp.txt").write_text(dt.datetime.now(dt.timezone.utc).isoformat())
    return folder


def source_notebook(assignment: str, name: str) -> Any:
    return nbformat.read(REPO / "source" / assignment / f"{name}.ipynb", as_version=4)


def released_notebook(root: Path, assignment: str, name: str) -> Any:
    return nbformat.read(root / "release" / assignment / f"{name}.ipynb", as_version=4)


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


def autograded_notebook(root: Path, student: str, assignment: str, name: str) -> Any:
    return nbformat.read(root / "autograded" / student / assignment / f"{name}.ipynb", as_version=4)


def metrics(nb: Any) -> dict[str, float]:
    """The numbers a notebook showed with ``course.checks.show_metrics`` (later ones win)."""
    found: dict[str, float] = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if METRICS_MIME in data:
                payload = data[METRICS_MIME]
                payload = json.loads(payload) if isinstance(payload, str) else payload
                found.update({k: v for k, v in payload.items() if k != "title"})
    return found


def errors(nb: Any) -> list[str]:
    """The error outputs of a notebook, as ``ename: evalue`` with the cell's grade id or index."""
    out = []
    for i, cell in enumerate(nb.cells):
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                gid = cell.metadata.get("nbgrader", {}).get("grade_id", f"cell {i}")
                out.append(f"{gid}: {o.get('ename')}: {o.get('evalue')}")
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


def grade(root: Path, assignment: str, *args: str, jobs: int = 1, timeout: float = 3600) -> subprocess.CompletedProcess:
    """Run the course's grader (``python -m course.grading``) on every submission of ``assignment`` in ``root``.

    Isolated when bubblewrap is installed; otherwise unisolated (these are the course's own notebooks).
    """
    isolation = [] if shutil.which("bwrap") else ["--allow-unisolated"]
    env = os.environ | {"PYTHONUNBUFFERED": "1", "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run([sys.executable, "-m", "course.grading", assignment, "--root", str(root), "--jobs", str(jobs),
                           *isolation, *args], env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"course.grading {assignment} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc


def report_rows(root: Path, assignment: str) -> dict[str, dict[str, str]]:
    """The integrity report of the last grading run, by student."""
    import csv

    with open(root / "reports" / assignment / "integrity.csv") as fh:
        return {row["student"]: row for row in csv.DictReader(fh)}


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


def answered(released: Any, solved: Any) -> Any:
    """What a good student hands in: the released notebook with the solution cells filled in."""
    nb = copy.deepcopy(released)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in solved.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
    return nb


def template_keys(nb: Any, grade_id: str) -> list[str]:
    """The keys of the answer dict that cell ``grade_id`` offers as a template (``'key': ...,`` lines)."""
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return [line.split("'")[1] for line in cell.source.splitlines() if line.strip().endswith(": ...,")]
    raise KeyError(grade_id)
