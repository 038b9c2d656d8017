"""Throw-away nbgrader courses for the tests and the benchmarks (never installed with the course): build
one from this repository's ``source/``, hand in notebooks, grade them with the course's grader, and read
what came out.

Each course is a copy of the repository's ``nbgrader_config.py`` and ``source/`` in a folder of its own,
so nothing touches the real gradebook, ``release/`` or ``submitted/``.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat

from course.protocol import METRICS_MIME  # noqa: F401 (the tests read metrics through it)

REPO = Path(__file__).resolve().parents[1]  # the course repository these tests belong to
BIN = Path(sys.executable).parent


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
