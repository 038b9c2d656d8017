"""What nbgrader runs when it is asked to autograde on its own (``nbgrader autograde``, the formgrader's
Autograde button): a refusal with directions.

Plain nbgrader would execute student code with the instructor's rights and let the student's own kernel
decide the score (a test cell that runs silently gets full marks). ``nbgrader_config.py`` therefore
puts :class:`UseTheCourseGrader` where nbgrader's executor was; ``python -m course.grading`` (``make
autograde``) replaces it with the sandboxed executor in its scratch courses and records the results
without executing anything (see :mod:`course.grading.runner`).
"""

from __future__ import annotations

from typing import Any

from nbconvert.preprocessors import Preprocessor

MESSAGE = (
    "This course is not autograded by plain nbgrader: it would run student code with your rights and "
    "let the student's kernel decide the score. Grade with the course's grader instead, in a terminal "
    "in the course folder:  make autograde ASSIGNMENT={assignment}   (or: python -m course.grading "
    "{assignment}). It sandboxes every submission, scores outside the student's code and records the "
    "grades in this gradebook: the formgrader then shows them, and manual grading, feedback and export "
    "work as usual. See docs/grading.md."
)


class RefusedError(RuntimeError):
    """Raised instead of executing a submission outside the course's grader."""


class UseTheCourseGrader(Preprocessor):
    """Stands in nbgrader's autograde pipeline where ``Execute`` was, and refuses."""

    def __call__(self, nb: Any, resources: dict) -> tuple[Any, dict]:  # never skipped as "not enabled"
        return self.preprocess(nb, resources)

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        assignment = resources.get("nbgrader", {}).get("assignment") or "<assignment>"
        raise RefusedError(MESSAGE.format(assignment=assignment))
