"""nbgrader configuration for the course. Every path is relative to this file's folder,
so a clone anywhere works. Instructors: see "Teaching with nbgrader" in README.md."""

import os
from pathlib import Path

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

ROOT = Path(__file__).resolve().parent

c.CourseDirectory.course_id = "genai-llm-fm"
c.CourseDirectory.root = str(ROOT)
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = "sqlite:///" + str(ROOT / "gradebook.db")
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.db"]

# The exchange (release/fetch/submit between instructor and students): a shared folder.
# Set COURSE_EXCHANGE to the class's shared path; the default keeps it inside this clone.
c.Exchange.root = os.environ.get("COURSE_EXCHANGE", str(ROOT / "exchange"))

# Per-cell time limit while grading. Every notebook runs in under 60 s in total on two
# cores; the longest cell (training) takes under 30 s, so 120 s leaves room for a slow
# machine and still stops an endless loop.
c.Execute.timeout = 120

# Autograding runs through the course's grader (`make autograde`, `python -m course.grading`), which
# sandboxes student code and scores outside it. Plain `nbgrader autograde` and the formgrader's
# Autograde button refuse with directions instead of running student code with the instructor's rights.
c.Autograde.autograde_preprocessors = ["course.grading.guard.UseTheCourseGrader"]

# The stub that replaces a solution in the released notebook.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# A test cell a student deleted is put back and scores 0 (the default would silently
# turn it into "needs manual grade").
c.OverwriteCells.add_missing_cells = True

# Feedback never shows hidden tests or the grading rubric (the default shows both), and a failed
# test shows one readable line instead of its traceback (which would quote the hidden test).
# HTML written for people (feedback, the formgrader's view of a submission) shows learners' HTML as
# text; course.grading also removes active outputs before anything is stored (docs/grading.md).
c.HTMLExporter.sanitize_html = True
# The learner's page (course.grading.selfpaced, the same one `make check` writes): it opens with the
# notebook's totals and one line per question, names the checks that failed (never the right values) and
# marks free-text answers "to be graded by your instructor" until they are.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "course.grading.selfpaced.LearnerFeedback",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbgrader.preprocessors.ClearMarkScheme",
    "course.grading.integrity.ShortFailureMessages",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
c.GenerateFeedback.exporter_class = "course.grading.selfpaced.LearnerFeedbackExporter"
