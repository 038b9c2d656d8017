"""A synthetic graded class for the report, export and similarity tests: the files grading leaves
(``reports/<assignment>/items.csv`` and ``integrity.csv``) and a ``gradebook.db``, with planted items.

The planted class (``planted``): 20 graded students ranked by ability (s01 strongest), one submission
NOT GRADED (s21), one student who handed in nothing (s22). Notebook ``nb1``:

- ``choices_tests`` (4 points, recorded answers):
  - ``answers[easy]``: everyone right;
  - ``answers[good]``: the 12 strongest right;
  - ``answers[misread]``: right ("y") for the 6 strongest, the wrong "x" for the next 13, one unanswered;
  - ``answers[reversed]``: right for the 8 weakest only (negative discrimination; two wrong answers,
    6 students each);
- ``double_tests`` (3 points, a function cell): right for the 14 strongest; ``value double of 2`` fails for
  the other 6, ``value double of -1`` also for the 3 weakest;
- ``essay`` (2 points, manual): not yet graded for s01-s03.
"""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path

A, NB = "quiz", "nb1"
STUDENTS = [f"s{i:02d}" for i in range(1, 21)]
ITEM_COLUMNS = ["student", "notebook", "cell", "item", "kind", "correct", "chosen", "points", "earned"]


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def answer_rows(student: str, cell: str, points: float, answers: dict[str, tuple[str, bool]]) -> list[list]:
    """Rows of one recorded-answers cell: key -> (chosen, right)."""
    earned = round(points * sum(ok for _, ok in answers.values()) / len(answers), 4)
    return [[student, NB, cell, f"answers[{k}]", "answer", int(ok), chosen, points, earned]
            for k, (chosen, ok) in answers.items()]


def value_rows(student: str, cell: str, points: float, checks: dict[str, bool]) -> list[list]:
    earned = points if all(checks.values()) else 0
    return [[student, NB, cell, name, "guard" if name.startswith("guard ") else "value", int(ok), "", points, earned]
            for name, ok in checks.items()]


def planted_rows() -> list[list]:
    rows = []
    for rank, s in enumerate(STUDENTS, start=1):
        misread = ('"y"', True) if rank <= 6 else (('"x"', False) if rank <= 19 else ("", False))
        rows += answer_rows(s, "choices_tests", 4, {
            "easy": ('"a"', True),
            "good": ('"c"', True) if rank <= 12 else ('"b"', False),
            "misread": misread,
            "reversed": ('{"p","q"}', True) if rank > 12 else ('{"p"}' if rank <= 6 else '{"q"}', False),
        })
        rows += value_rows(s, "double_tests", 3, {
            "guard returns a tensor": True,
            "value double of 2": rank <= 14,
            "value double of -1": rank <= 17,
        })
    return rows


def planted_scores() -> dict[str, float]:
    """Each graded student's autograded score (from the rows) plus 2 manual points where graded."""
    scores: dict[str, float] = {}
    seen = set()
    for r in planted_rows():
        if (r[0], r[2]) not in seen:
            seen.add((r[0], r[2]))
            scores[r[0]] = scores.get(r[0], 0.0) + float(r[8])
    return scores


def make_gradebook(root: Path, assignment: str, cells: dict[str, dict[str, tuple[float, str]]],
                   students: dict[str, dict[str, str]], grades: dict[tuple[str, str, str], float | None]) -> Path:
    """``gradebook.db`` in ``root``: ``cells`` notebook -> cell -> (points, code|markdown); ``grades``
    (student, notebook, cell) -> score, None for a manual grade still to do. Students with no grade have
    no submission."""
    from nbgrader.api import Gradebook

    # nbgrader stamps a new gradebook with the `alembic` command it finds on PATH
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    db = root / "gradebook.db"
    with Gradebook(f"sqlite:///{db}") as gb:
        gb.update_or_create_assignment(assignment)
        for nb, nb_cells in cells.items():
            gb.add_notebook(nb, assignment)
            for cell, (points, kind) in nb_cells.items():
                gb.add_grade_cell(cell, nb, assignment, max_score=points, cell_type=kind)
        for sid, who in students.items():
            gb.update_or_create_student(sid, **who)
        for sid in sorted({k[0] for k in grades}):
            gb.add_submission(assignment, sid)
        for (sid, nb, cell), score in grades.items():
            g = gb.find_grade(cell, nb, assignment, sid)
            manual = cells[nb][cell][1] == "markdown"
            if score is None:
                g.needs_manual_grade = True
            else:
                g.needs_manual_grade = False
                if manual:
                    g.manual_score = score
                else:
                    g.auto_score = score
        gb.db.commit()
    return db


def planted(root: Path) -> Path:
    """The planted class in the course folder ``root`` (returns its report folder)."""
    folder = root / "reports" / A
    write_csv(folder / "items.csv", ITEM_COLUMNS, planted_rows())
    auto = planted_scores()
    integrity = [[s, "graded", auto[s], 9, "stderr" if s in ("s04", "s05") else "", "", 30.0] for s in STUDENTS]
    integrity.append(["s21", "NOT GRADED", "", "", "notebook_unreadable", "nb1.ipynb: not JSON", 1.0])
    write_csv(folder / "integrity.csv", ["student", "status", "score", "max_score", "flags", "details", "seconds"],
              integrity)
    cells = {NB: {"choices_tests": (4.0, "code"), "double_tests": (3.0, "code"), "essay": (2.0, "markdown")}}
    grades: dict[tuple[str, str, str], float | None] = {}
    for s in STUDENTS:
        rows = [r for r in planted_rows() if r[0] == s]
        for cell in ("choices_tests", "double_tests"):
            grades[(s, NB, cell)] = float(next(r[8] for r in rows if r[2] == cell))
        grades[(s, NB, "essay")] = None if s in ("s01", "s02", "s03") else 2.0
    people = {s: {"first_name": s.upper(), "last_name": "Test", "email": f"{s}@example.org"}
              for s in [*STUDENTS, "s21", "s22"]}
    make_gradebook(root, A, cells, people, grades)
    return folder
