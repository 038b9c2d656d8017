"""The learner's feedback page: the same summary as ``make check``, in the learner's words.

:class:`LearnerFeedback` runs after nbgrader's ``GetGrades`` in ``nbgrader generate_feedback`` and
feeds the ``learner_feedback`` template (in ``templates/``, built on nbgrader's feedback page): the
page opens with the notebook's totals ("autograded: x of y; free text: z points to assess") and one
line per question, with the names of the checks that failed (never the right values). Free-text
answers read "to be graded by your instructor" in a class (``mode = "class"``); in a self-paced
check (``mode = "selfpaced"``) a written answer is shown beside the mark scheme of the instructor's
notebook (``source``), for self-assessment, and an unwritten one is not (the mark scheme stays hidden).

``make check`` passes it on nbgrader's command line (:func:`command_line`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Enum, Unicode

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
        failed = read_items(Path(self.items), student) if self.items else {}
        schemes = self._schemes(notebook)
        questions: list[Question] = []
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if not meta.get("grade"):
                continue
            free = bool(meta.get("solution"))
            q = Question(notebook, question_name(meta["grade_id"]), float(meta.get("points", 0)), meta.get("score"),
                         free_text=free, answered=not free or is_answered(cell.source),
                         failed=failed.get((notebook, meta["grade_id"]), []))
            if free and self.mode == "selfpaced":
                q.score = None
            questions.append(q)
            shown: dict[str, Any] = {"status": status(q, self.mode, on_page=True), "name": q.name}
            if free and self.mode == "selfpaced" and q.answered and schemes.get(meta["grade_id"]):
                shown["markscheme"] = schemes[meta["grade_id"]]
            cell.metadata["learner"] = shown
        resources["learner"] = {
            "title": f"{notebook}: {totals(questions, self.mode)}",
            "questions": [{"name": q.name, "status": status(q, self.mode, on_page=True)} for q in questions],
            "lines": lines(notebook, questions, self.mode),
        }
        return nb, resources


def command_line(mode: str, source: Path | None, items: Path | None) -> list[str]:
    """Arguments for ``nbgrader generate_feedback`` that make the learner's page."""
    import nbgrader

    nbgrader_templates = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"
    pre = ["nbgrader.preprocessors.GetGrades", "course.grading.selfpaced.LearnerFeedback",
           "nbgrader.preprocessors.ClearHiddenTests", "nbgrader.preprocessors.ClearMarkScheme",
           "course.grading.integrity.ShortFailureMessages", "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor"]
    args = [f"--GenerateFeedback.preprocessors={p}" for p in pre]
    args += ["--HTMLExporter.template_name=learner_feedback", "--HTMLExporter.template_file=learner.html.j2",
             f"--HTMLExporter.extra_template_basedirs={nbgrader_templates}",
             f"--HTMLExporter.extra_template_basedirs={TEMPLATES}",
             f"--LearnerFeedback.mode={mode}"]
    if source is not None:
        args.append(f"--LearnerFeedback.source={os.fspath(source)}")
    if items is not None:
        args.append(f"--LearnerFeedback.items={os.fspath(items)}")
    return args
