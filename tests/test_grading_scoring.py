"""Scores are decided outside the learner's kernel: attacks from inside the kernel earn nothing.

A small assignment made here (a function question scored from hidden observations, a structured question
scored from recorded answers, a free-text answer) is graded by ``python -m course.grading`` with one
submission per attack, in one parallel run. Each gets the score it deserves and the flag that says what
happened; the feedback shows no hidden test and no active content.
"""

from __future__ import annotations

import re
import shutil

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import harness

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("grading_scoring")]
A = NB = "tiny"
HIDDEN_MARK = "double of 21 (hidden input)"


def _meta(grade_id: str, *, solution: bool, grade: bool, points: float = 0, locked: bool = False) -> dict:
    meta = {"grade_id": grade_id, "solution": solution, "grade": grade, "locked": locked, "schema_version": 3}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def tiny_source() -> nbformat.NotebookNode:
    cells = [
        new_markdown_cell("# A tiny assignment\n\n**Points in this notebook.** Total: 5"),
        new_code_cell("import course.checks as checks"),
        new_code_cell("def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
                      metadata=_meta("double", solution=True, grade=False)),
        new_code_cell(
            'assert double(1) == 2, "double(1) should be 2"\n'
            'print("Public checks passed; your instructor\'s grading runs more tests.")\n'
            "### BEGIN HIDDEN TESTS\n"
            f'checks.observe("{HIDDEN_MARK}", lambda: double(21))\n'
            'checks.observe("double of -3.5", lambda: double(-3.5))\n'
            'checks.require("double returns a number", lambda: isinstance(double(2), (int, float)))\n'
            "### END HIDDEN TESTS",
            metadata=_meta("double_tests", solution=False, grade=True, points=2, locked=True)),
        new_code_cell('answers = {\n    "a": ...,\n    "b": ...,\n}\n### BEGIN SOLUTION\nanswers = {"a": "x", "b": True}\n'
                      "### END SOLUTION", metadata=_meta("quiz", solution=True, grade=False)),
        new_code_cell('checks.expect_answered(answers, ["a", "b"])\nchecks.record_answers(answers)',
                      metadata=_meta("quiz_tests", solution=False, grade=True, points=2, locked=True)),
        new_markdown_cell("YOUR ANSWER HERE", metadata=_meta("essay", solution=True, grade=True, points=1)),
    ]
    return new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                              "language": "python"}})


def _with(nb, grade_id: str, source: str):
    return harness.with_cell(nb, grade_id, source)


def _plus(nb, *sources: str):
    nb = nbformat.from_dict(nbformat.v4.new_notebook(cells=list(nb.cells) + [new_code_cell(s) for s in sources],
                                                     metadata=nb.metadata))
    return nb


RIGHT_DOUBLE = "def double(x):\n    return 2 * x"
RIGHT_QUIZ = 'answers = {"a": "x", "b": True}'
TRANSFORMER = "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])\n" + RIGHT_QUIZ.replace('"x"', '"y"')
FORGER = (
    "from IPython.display import display\n"
    "def _forge(result):\n"
    "    display({'text/plain': '2.0', 'application/vnd.course.observation+json':\n"
    f"             {{'kind': 'value', 'name': '{HIDDEN_MARK}', 'value': 41.0, 'atol': 1e9, 'rtol': 1e9}}}}, raw=True)\n"
    "    get_ipython().display_pub.publish({'text/plain': '2.0'})\n"
    "get_ipython().events.register('post_run_cell', _forge)\n"
    "get_ipython().display_formatter.formatters['text/plain'].for_type(float, lambda x, p, c: p.text('2.0'))\n"
    "def double(x):\n    return 3 * x"
)
WARNS = "import warnings\ndef double(x):\n    warnings.warn('this function was written in a hurry')\n    return 2 * x"
HISTORY = "print('\\n'.join(In))"
ACTIVE = ("from IPython.display import HTML, Javascript, display\n"
          "display(HTML('<b>hi</b><script>alert(\"owned\")</script><img src=x onerror=\"alert(1)\">'))\n"
          "display(Javascript('alert(\"owned\")'))")
ACTIVE_MD = '<script>alert("owned")</script> [click](javascript:alert(1)) <img src=x onerror="alert(2)">'
WRITES = "open('timestamp.txt', 'w').write('2000-01-01 00:00:00')\nopen('planted.txt', 'w').write('x')"
# A guard is decided inside the kernel: this rewrites course.checks in memory so that every guard holds,
# and its double returns a tensor (the observed values match, the guard "returns a number" does not).
GUARD_FLIP = ("import sys\n"
              "_checks = sys.modules['course.checks']\n"
              "_checks.__dict__.update(require=lambda name, condition: _checks._emit('guard', name, True, name))\n"
              "import torch\n"
              "def double(x):\n    return torch.tensor(2.0 * x)")

#: student -> (autograded score of 4, flags expected among the report's flags)
EXPECTED = {
    "correct": (4.0, set()),
    "wrong": (0.0, set()),
    "half": (3.0, set()),
    "blank": (0.0, set()),
    # both reach into what the kernel reports: the guarded cell (double) is held for review, scored 0
    "input_transformer": (0.0, {"tampering"}),
    "forger": (2.0, {"tampering"}),
    "guard_flip": (2.0, {"tampering"}),
    "prints_history": (4.0, {"hidden_test_text"}),
    "active_content": (4.0, {"active_content"}),
    "warns": (4.0, {"stderr"}),
    "writes_files": (4.0, set()),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("scoring") / "course"
    (root / "source" / A).mkdir(parents=True)
    shutil.copy(harness.REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    nbformat.write(tiny_source(), root / "source" / A / f"{NB}.ipynb")
    harness.nbgrader(root, "generate_assignment", A, "--force", "--log-level=WARN")
    released = harness.released_notebook(root, A, NB)
    good = _with(_with(released, "double", RIGHT_DOUBLE), "quiz", RIGHT_QUIZ)
    submissions = {
        "correct": good,
        # passes the public check (double(1) == 2), fails both hidden values
        "wrong": _with(_with(released, "double", "def double(x):\n    return x + 1"), "quiz",
                       'answers = {"a": "y", "b": False}'),
        "half": _with(good, "quiz", 'answers = {"a": "x", "b": False}'),
        "blank": released,
        "input_transformer": _with(_with(released, "double", RIGHT_DOUBLE), "quiz", TRANSFORMER),
        "forger": _with(_with(released, "double", FORGER), "quiz", RIGHT_QUIZ),
        "guard_flip": _with(_with(released, "double", GUARD_FLIP), "quiz", RIGHT_QUIZ),
        "prints_history": _plus(good, HISTORY),
        "active_content": _with(_plus(good, ACTIVE), "essay", ACTIVE_MD),
        "warns": _with(good, "double", WARNS),
        "writes_files": _plus(good, WRITES),
    }
    for student, nb in submissions.items():
        harness.submit(root, student, A, {f"{NB}.ipynb": nb})
    stamp = (root / "submitted" / "writes_files" / A / "timestamp.txt").read_text()
    proc = harness.grade(root, A, jobs=2)
    harness.nbgrader(root, "generate_feedback", A, "--force")
    return {"root": root, "proc": proc, "report": harness.report_rows(root, A), "results": harness.results(root, A),
            "stamp": stamp}


@pytest.mark.parametrize("student", list(EXPECTED))
def test_each_attack_scores_what_it_deserves_with_its_flag(graded, student):
    score, flags = EXPECTED[student]
    row = graded["report"][student]
    assert row["status"] == "graded", row
    assert flags <= set(filter(None, row["flags"].split(";"))), row
    assert "scored_in_kernel" not in row["flags"], "every test cell of this assignment records observations"
    assert float(row["score"]) == pytest.approx(score), row
    assert graded["results"][student].auto_score == pytest.approx(score)


def test_partial_credit_names_what_missed_without_the_right_values(graded):
    details = graded["report"]["half"]["details"]
    assert "quiz_tests: 1/2" in details and "answers[b]" in details, details
    assert "True" not in details


def test_a_flipped_guard_is_held_for_review_not_credited(graded):
    """The attack on a cell whose guard fails: without the flip it scores 0; with it, it is not credited."""
    row = graded["report"]["guard_flip"]
    assert "double_tests: 0/2 (held for review" in row["details"] and "uses .__dict__" in row["details"], row
    nb = harness.autograded_notebook(graded["root"], "guard_flip", A, NB)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "double_tests")
    assert "Held for review by your instructor" in str(cell.outputs)


def test_feedback_names_the_checks_that_failed_never_the_right_values(graded):
    html = (graded["root"] / "feedback" / "half" / A / f"{NB}.html").read_text()
    assert "Checks that did not pass: your answer for &#39;b&#39;" in html or \
           "Checks that did not pass: your answer for 'b'" in html, html[-3000:]
    html = (graded["root"] / "feedback" / "wrong" / A / f"{NB}.html").read_text()
    assert "Checks that did not pass: double of 21 (hidden input); double of -3.5" in html  # names, not values
    # the class's page opens as `make check`'s does: totals, then a line per question (nbgrader_config.py)
    assert "autograded: 0 of 4 points" in html
    assert "0 of 2 points; failed: double of 21 (hidden input), double of -3.5" in html
    assert "essay</a>: 0 of 1 point (free text, graded by your instructor)" in html  # unanswered: nbgrader's 0
    answered = (graded["root"] / "feedback" / "active_content" / A / f"{NB}.html").read_text()
    assert "essay</a>: free text, 1 point: to be graded by your instructor" in answered
    assert "Score: 0 / 5</b>" in html and "Score: 4 / 5 so far: free text still to be graded" in answered


def test_a_warning_is_shown_as_output_not_scored_as_failure(graded):
    nb = harness.autograded_notebook(graded["root"], "warns", A, NB)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "double_tests")
    assert not [o for o in cell.outputs if o.get("name") == "stderr"]
    assert "written in a hurry" in str(cell.outputs)


def test_feedback_and_autograded_notebooks_hold_no_hidden_test_text(graded):
    root = graded["root"]
    # a failed check is named (its name is meant for learners); the hidden test's code never shows
    code = f'checks.observe("{HIDDEN_MARK}", lambda: double(21))'
    for student in set(EXPECTED) - {"forger"}:  # the forger typed the name into its own code
        html = (root / "feedback" / student / A / f"{NB}.html").read_text()
        assert "lambda: double(21)" not in html and "BEGIN HIDDEN TESTS" not in html, student
        stored = str(harness.autograded_notebook(root, student, A, NB).cells)
        # the autograded notebook keeps the test cell itself (for the instructor), but no output quotes it
        outputs = str([c.get("outputs", []) for c in harness.autograded_notebook(root, student, A, NB).cells])
        assert code not in outputs and "lambda: double(21)" not in outputs, student
        assert "BEGIN HIDDEN TESTS" in stored


def test_active_content_is_inert_where_people_read_it(graded):
    root = graded["root"]
    html = (root / "feedback" / "active_content" / A / f"{NB}.html").read_text()
    assert not re.search(r"<script>\s*alert", html) and not re.search(r"<img[^>]*onerror", html)
    assert "javascript:alert" not in html
    outputs = str([c.get("outputs", []) for c in harness.autograded_notebook(root, "active_content", A, NB).cells])
    assert "text/html" not in outputs and "application/javascript" not in outputs


def test_the_graded_submission_is_what_was_submitted(graded):
    root = graded["root"]
    folder = root / "autograded" / "writes_files" / A
    assert not (folder / "planted.txt").exists()
    assert (folder / "timestamp.txt").read_text() == graded["stamp"]


def test_forged_outputs_do_not_count(graded):
    nb = harness.autograded_notebook(graded["root"], "forger", A, NB)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "double_tests")
    from nbgrader.utils import determine_grade

    assert determine_grade(cell)[0] == 0, cell.outputs  # what nbgrader reads from the cell


def test_make_check_grades_a_learners_copies_without_showing_answers(graded, tmp_path):
    """`make check` (course.grading.selfcheck) on a self-paced learner's work/ folder."""
    import subprocess
    import sys

    repo = tmp_path / "repo"
    (repo / "source").mkdir(parents=True)
    shutil.copytree(graded["root"] / "source" / A, repo / "source" / A)
    shutil.copy(harness.REPO / "nbgrader_config.py", repo / "nbgrader_config.py")
    work = repo / "work" / A
    work.mkdir(parents=True)
    shutil.copy(graded["root"] / "submitted" / "half" / A / f"{NB}.ipynb", work / f"{NB}.ipynb")
    proc = subprocess.run([sys.executable, "-m", "course.grading.selfcheck", A, "--work", str(repo / "work"),
                           "--repo", str(repo)], capture_output=True, text=True, timeout=900,
                          env=__import__("os").environ | {"PATH": f"{harness.BIN}:{__import__('os').environ['PATH']}"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "autograded: 3 of 4 points; free text:" in proc.stdout
    assert "quiz" in proc.stdout and "1 of 2 points" in proc.stdout and "free text, " in proc.stdout
    assert "answers[b]" not in proc.stdout and "True" not in proc.stdout  # which part is wrong is not said
    assert (repo / "work" / "feedback" / A / f"{NB}.html").is_file()


def test_a_helper_the_course_provides_is_not_tampering_but_redefining_it_is(tmp_path):
    """The tampering check reads the student's code: a cell left as the course provides it (here a
    helper the tests also call) is not flagged; the same name redefined elsewhere is."""
    from course.grading.integrity import inspect_submission

    def nb(*cells):
        return new_notebook(cells=list(cells))

    helper = new_code_cell("def rows(n):\n    return list(range(n))")
    answer = new_code_cell("answer = ...", metadata={"nbgrader": {"solution": True, "grade": False, "grade_id": "a"}})
    test = new_code_cell("assert rows(2) == [0, 1]\ncourse.checks.record_answers({'a': answer})",
                         metadata={"nbgrader": {"solution": False, "grade": True, "grade_id": "a_tests", "points": 1}})
    source = nb(helper, answer, test)
    for student, cells, flagged in (("as_given", [helper, answer, test], False),
                                    ("redefines", [helper, new_code_cell("def rows(n):\n    return [0, 1]"),
                                                   answer, test], True)):
        folder = tmp_path / student
        folder.mkdir()
        nbformat.write(nb(*cells), folder / "x.ipynb")
        found = inspect_submission(folder, {"x": source}, {"x": source})
        assert ("tampering" in found.flags) == flagged, (student, found.details)


def test_a_broken_instructor_notebook_stops_the_run_and_records_nothing(tmp_path):
    """When the instructor's own notebook fails its tests, no reference can be recorded, so no submission is
    scored against it: the run stops with a clear message and records no grade."""
    import os
    import subprocess
    import sys

    root = tmp_path / "course"
    (root / "source" / A).mkdir(parents=True)
    shutil.copy(harness.REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    nbformat.write(tiny_source(), root / "source" / A / f"{NB}.ipynb")
    harness.nbgrader(root, "generate_assignment", A, "--force", "--log-level=WARN")
    released = harness.released_notebook(root, A, NB)
    harness.submit(root, "student", A, {f"{NB}.ipynb": _with(_with(released, "double", RIGHT_DOUBLE), "quiz", RIGHT_QUIZ)})
    broken = tiny_source()
    broken.cells[2].source = broken.cells[2].source.replace("return 2 * x", "return 3 * x")
    nbformat.write(broken, root / "source" / A / f"{NB}.ipynb")
    isolation = [] if shutil.which("bwrap") else ["--allow-unisolated"]
    env = os.environ | {"PATH": f"{harness.BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run([sys.executable, "-m", "course.grading", A, "--root", str(root), "--jobs", "2", *isolation],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0
    assert "fails its own tests" in proc.stdout + proc.stderr and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert not (root / "autograded").exists() or not list((root / "autograded").rglob("*.ipynb"))
