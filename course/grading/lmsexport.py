"""Grades for the learning platform: nbgrader export plugins that write the CSV shapes Canvas and Moodle
import, and a per-question CSV (``make grades FORMAT=canvas|moodle|csv``)::

    nbgrader export --exporter=course.grading.lmsexport.CanvasExport --to grades-canvas.csv
    nbgrader export --exporter=course.grading.lmsexport.MoodleExport --to grades-moodle.csv
    nbgrader export --exporter=course.grading.lmsexport.QuestionsExport --to grades-csv.csv

Identities are the gradebook's (``nbgrader db student add ID --first-name --last-name --email
--lms-user-id``). A student without the identity the platform matches on (Canvas: the LMS user id;
Moodle: the email address) stops the export with an error naming every such student, instead of leaving
a cell the platform would silently skip. As in nbgrader's own export, an assignment a student did not hand
in scores 0, and an assignment's score is its score less the late penalty (per-question scores are as
graded). Manual grading still to do is warned about: those totals are not final.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin

POINTS_POSSIBLE = "Points Possible"


class ExportError(Exception):
    """The gradebook lacks something the platform needs (the message says what and for whom)."""


@dataclass
class StudentGrades:
    id: str
    first_name: str
    last_name: str
    email: str
    lms_user_id: str
    totals: dict[str, float] = field(default_factory=dict)  # assignment -> score after late penalty
    questions: dict[tuple[str, str, str], float] = field(default_factory=dict)  # (assignment, notebook, cell)
    pending: list[str] = field(default_factory=list)  # assignments with manual grading still to do


@dataclass
class Grades:
    assignments: dict[str, float]  # name -> max score, in gradebook order
    questions: dict[tuple[str, str, str], float]  # (assignment, notebook, cell) -> max score
    students: list[StudentGrades]


def collect(gb: Gradebook, only_assignments: list[str] = (), only_students: list[str] = ()) -> Grades:
    """Every student's score per assignment and per question (grade cell), from the gradebook."""
    wanted = [a for a in gb.assignments if not only_assignments or a.name in only_assignments]
    unknown = sorted(set(only_assignments) - {a.name for a in wanted})
    if unknown:
        raise ExportError(f"no assignment {', '.join(unknown)} in the gradebook "
                          f"(it has: {', '.join(a.name for a in gb.assignments) or 'none'})")
    questions = {(a.name, nb.name, c.name): float(c.max_score)
                 for a in wanted for nb in sorted(a.notebooks, key=lambda n: n.name)
                 for c in sorted(nb.grade_cells, key=lambda c: c.name)}
    out = Grades({a.name: float(a.max_score) for a in wanted}, questions, [])
    for s in sorted(gb.students, key=lambda s: s.id):
        if only_students and s.id not in only_students:
            continue
        row = StudentGrades(s.id, s.first_name or "", s.last_name or "", s.email or "", s.lms_user_id or "")
        for a in wanted:
            row.totals[a.name] = 0.0
            try:
                sub = gb.find_submission(a.name, s.id)
            except MissingEntry:
                row.questions.update({q: 0.0 for q in questions if q[0] == a.name})
                continue
            row.totals[a.name] = max(0.0, float(sub.score) - float(sub.late_submission_penalty or 0))
            for nb in sub.notebooks:
                for g in nb.grades:
                    row.questions[(a.name, nb.name, g.name)] = float(g.score)
            if sub.needs_manual_grade:
                row.pending.append(a.name)
        out.students.append(row)
    return out


def _require(grades: Grades, attribute: str, what: str, how: str) -> None:
    lacking = [s.id for s in grades.students if not getattr(s, attribute).strip()]
    if lacking:
        raise ExportError(f"{len(lacking)} student(s) have no {what}, which the platform matches grades on: "
                          f"{', '.join(lacking)}. Set it with `{how}` (or leave them out with --student).")


def _num(value: float) -> str:
    return f"{value:g}"


def _name(s: StudentGrades) -> str:
    return ", ".join(p for p in (s.last_name, s.first_name) if p) or s.id


def canvas(grades: Grades) -> list[list[str]]:
    """Canvas's gradebook import: one column per assignment (a new column becomes a new Canvas assignment,
    so no per-question columns), students matched on the Canvas user ID (nbgrader's LMS user id)."""
    _require(grades, "lms_user_id", "LMS user id",
             "nbgrader db student add <id> --lms-user-id=<Canvas user ID>")
    names = list(grades.assignments)
    rows = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *names],
            [POINTS_POSSIBLE, "", "", "", "", *(_num(grades.assignments[a]) for a in names)]]
    rows += [[_name(s), s.lms_user_id, "", "", "", *(_num(s.totals[a]) for a in names)] for s in grades.students]
    return rows


def _question_column(q: tuple[str, str, str]) -> str:
    return f"{q[0]}: {q[1]}: {q[2]}"


def moodle(grades: Grades) -> list[list[str]]:
    """Moodle's grade import (CSV file): students matched on the email address; each assignment's total and
    each question are columns the import maps to grade items (new or existing)."""
    _require(grades, "email", "email address", "nbgrader db student add <id> --email=<address>")
    columns = [c for a in grades.assignments for c in [(a,), *(q for q in grades.questions if q[0] == a)]]
    header = ["Email address", "First name", "Last name",
              *(c[0] if len(c) == 1 else _question_column(c) for c in columns)]
    rows = [header]
    for s in grades.students:
        rows.append([s.email, s.first_name, s.last_name,
                     *(_num(s.totals[c[0]] if len(c) == 1 else s.questions.get(c, 0.0)) for c in columns)])
    return rows


def questions(grades: Grades) -> list[list[str]]:
    """One row per student with every identity nbgrader holds, each assignment's total and each question;
    the first row under the header holds the points possible."""
    columns = [c for a in grades.assignments for c in [(a,), *(q for q in grades.questions if q[0] == a)]]
    header = ["student_id", "last_name", "first_name", "email", "lms_user_id",
              *(c[0] if len(c) == 1 else _question_column(c) for c in columns)]
    maxima = [grades.assignments[c[0]] if len(c) == 1 else grades.questions[c] for c in columns]
    rows = [header, [POINTS_POSSIBLE, "", "", "", "", *(_num(m) for m in maxima)]]
    for s in grades.students:
        rows.append([s.id, s.last_name, s.first_name, s.email, s.lms_user_id,
                     *(_num(s.totals[c[0]] if len(c) == 1 else s.questions.get(c, 0.0)) for c in columns)])
    return rows


class _Export(ExportPlugin):
    """Shared by the three formats: collect, check identities, write, warn about pending manual grading."""

    format = ""

    def rows(self, grades: Grades) -> list[list[str]]:
        raise NotImplementedError

    def export(self, gradebook: Gradebook) -> None:
        dest = self.to or f"grades-{self.format}.csv"
        try:
            grades = collect(gradebook, [str(a) for a in self.assignment], [str(s) for s in self.student])
            rows = self.rows(grades)
        except ExportError as exc:
            self.log.error("%s export not written: %s", self.format, exc)
            raise SystemExit(1) from None
        with open(dest, "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows(rows)
        pending = [f"{s.id} ({', '.join(s.pending)})" for s in grades.students if s.pending]
        if pending:
            self.log.warning("Manual grading still to do, so these totals are not final: %s", "; ".join(pending))
        self.log.info("Wrote %s grades of %d students to %s", self.format, len(grades.students), dest)


class CanvasExport(_Export):
    format = "canvas"

    def rows(self, grades: Grades) -> list[list[str]]:
        return canvas(grades)


class MoodleExport(_Export):
    format = "moodle"

    def rows(self, grades: Grades) -> list[list[str]]:
        return moodle(grades)


class QuestionsExport(_Export):
    format = "csv"

    def rows(self, grades: Grades) -> list[list[str]]:
        return questions(grades)
