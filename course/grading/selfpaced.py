"""The learner's feedback page: the same summary as ``make check``, in the learner's words.

:class:`LearnerFeedback` runs after nbgrader's ``GetGrades`` in ``nbgrader generate_feedback`` and
feeds the ``learner_feedback`` template (in ``templates/``, built on nbgrader's feedback page): the
page opens with the notebook's totals ("autograded: x of y; free text: z points to assess") and one
line per question, with the names of the checks that failed (never the right values). Free-text
answers read "to be graded by your instructor" in a class (``mode = "class"``); in a self-paced
check (``mode = "selfpaced"``) a written answer is shown beside the mark scheme of the instructor's
notebook (``source``), for self-assessment, and an unwritten one is not (the mark scheme stays hidden).

``make check`` passes it on nbgrader's command line (:func:`command_line`); a class gets the same page
from ``nbgrader_config.py`` (``GenerateFeedback.exporter_class``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import nbformat
from nbconvert.exporters import HTMLExporter
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Enum, Unicode
from traitlets.config import Config

from course.grading.learner import Question, is_answered, lines, question_name, read_items, status, totals

TEMPLATES = Path(__file__).resolve().parent / "templates"
_SCHEME = re.compile(r"^\s*=== (BEGIN|END) MARK SCHEME ===\s*$", re.M)


def mark_scheme(source_cell_text: str, stub: str = "YOUR ANSWER HERE") -> str:
    """The instructor's model answer and rubric of a free-text cell, without the markers and the stub."""
    text = _SCHEME.sub("", source_cell_text)
    return "\n".join(ln for ln in text.splitlines() if ln.strip() != stub).strip()


class LearnerFeedback(NbGraderPreprocessor):
    """Summary, per-question status and (self-paced, answered) mark schemes for the feedback template."""

    mode = Enum(["class", "selfpaced"], default_value="class", help="who reads the page").tag(config=True)
    source = Unicode("", help="folder of the instructor's notebooks (self-paced mark schemes)").tag(config=True)
    items = Unicode("", help="the grader's items.csv (names of failed checks)").tag(config=True)

    def _items(self, assignment: str) -> Path | None:
        """``items``, or in a class the course's ``reports/<assignment>/items.csv`` where the grader wrote it."""
        if self.items:
            return Path(self.items)
        if self.mode != "class":
            return None
        from nbgrader.coursedir import CourseDirectory

        path = Path(CourseDirectory(config=self.config).root) / "reports" / assignment / "items.csv"
        return path if path.is_file() else None

    @staticmethod
    def _pending(info: dict, nb: Any) -> set[str]:
        """Free-text answers the instructor has still to grade (in the gradebook)."""
        from nbgrader.api import Gradebook

        free = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells
                if c.metadata.get("nbgrader", {}).get("grade") and c.metadata["nbgrader"].get("solution")]
        if not free:
            return set()
        with Gradebook(info["db_url"]) as gb:
            return {g for g in free
                    if gb.find_grade(g, info["notebook"], info["assignment"], info["student"]).needs_manual_grade}

    def _schemes(self, notebook: str) -> dict[str, str]:
        path = Path(self.source) / f"{notebook}.ipynb"
        if self.mode != "selfpaced" or not self.source or not path.is_file():
            return {}
        nb = nbformat.read(path, 4)
        return {c.metadata["nbgrader"]["grade_id"]: mark_scheme(c.source) for c in nb.cells
                if c.metadata.get("nbgrader", {}).get("grade") and c.metadata["nbgrader"].get("solution")}

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        info = resources["nbgrader"]
        notebook, student = info["notebook"], info["student"]
        items = self._items(info["assignment"])
        failed = read_items(items, student) if items else {}
        schemes = self._schemes(notebook)
        pending = self._pending(info, nb) if self.mode == "class" else set()
        questions: list[Question] = []
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if not meta.get("grade"):
                continue
            free = bool(meta.get("solution"))
            q = Question(notebook, question_name(meta["grade_id"]), float(meta.get("points", 0)), meta.get("score"),
                         free_text=free, answered=not free or is_answered(cell.source),
                         failed=failed.get((notebook, meta["grade_id"]), []))
            if free and (self.mode == "selfpaced" or meta["grade_id"] in pending):
                q.score = None  # nbgrader reads an ungraded answer as 0 points
            questions.append(q)
            shown: dict[str, Any] = {"status": status(q, self.mode, on_page=True), "name": q.name}
            if free and self.mode == "selfpaced" and q.answered and schemes.get(meta["grade_id"]):
                shown["markscheme"] = schemes[meta["grade_id"]]
            cell.metadata["learner"] = shown
        resources["learner"] = {
            "title": f"{notebook}: {totals(questions, self.mode)}",
            "questions": [{"name": q.name, "status": status(q, self.mode, on_page=True)} for q in questions],
            "lines": lines(notebook, questions, self.mode),
            "score": self._score(info, pending) if self.mode == "class" else "",
        }
        return nb, resources

    @staticmethod
    def _score(info: dict, pending: set[str]) -> str:
        """The notebook's grade as the gradebook holds it (``GetGrades`` put it in ``info``)."""
        if "score" not in info:
            return ""
        text = f"Score: {float(info['score']):g} / {float(info['max_score']):g}"
        if float(info.get("late_penalty") or 0) > 0:
            text += f" (after a late-submission penalty of {float(info['late_penalty']):g})"
        if pending:
            text += " so far: free text still to be graded"
        return text


class LearnerFeedbackExporter(HTMLExporter):
    """nbgrader's feedback exporter with the learner's page as its template.

    Chosen with ``GenerateFeedback.exporter_class`` (``nbgrader_config.py``), so it applies to feedback
    only: the formgrader's own views keep their ``HTMLExporter`` templates. The template is set in a
    configuration section of this class, which wins over the ``HTMLExporter`` template that
    ``GenerateFeedback`` names for itself.
    """

    def __init__(self, config: Config | None = None, **kwargs: Any) -> None:
        import nbgrader

        ours = Config()
        ours.LearnerFeedbackExporter.template_name = "learner_feedback"
        ours.LearnerFeedbackExporter.template_file = "learner.html.j2"
        ours.LearnerFeedbackExporter.extra_template_basedirs = [
            str(Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"), str(TEMPLATES)]
        merged = Config(config or {})
        merged.merge(ours)  # a section of this class wins over nbgrader's HTMLExporter settings
        super().__init__(config=merged, **kwargs)


#: ``GenerateFeedback.preprocessors`` for the learner's page (``nbgrader_config.py`` lists the same).
PREPROCESSORS = ["nbgrader.preprocessors.GetGrades", "course.grading.selfpaced.LearnerFeedback",
                 "nbgrader.preprocessors.ClearHiddenTests", "nbgrader.preprocessors.ClearMarkScheme",
                 "course.grading.integrity.ShortFailureMessages", "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor"]


def command_line(mode: str, source: Path | None, items: Path | None) -> list[str]:
    """Arguments for ``nbgrader generate_feedback`` that make the learner's page."""
    args = [f"--GenerateFeedback.preprocessors={p}" for p in PREPROCESSORS]
    args += ["--GenerateFeedback.exporter_class=course.grading.selfpaced.LearnerFeedbackExporter",
             f"--LearnerFeedback.mode={mode}"]
    if source is not None:
        args.append(f"--LearnerFeedback.source={os.fspath(source)}")
    if items is not None:
        args.append(f"--LearnerFeedback.items={os.fspath(items)}")
    return args
