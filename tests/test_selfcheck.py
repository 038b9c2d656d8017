"""The self-paced learner's loop: `make check NOTEBOOK=...`, its words, the feedback page, `make progress`.

A throw-away course with one assignment of three small notebooks and a learner's work/ folder in which
``alpha`` is answered, ``beta`` half answered (one answer wrong, the free text written) and ``gamma``
untouched. The unit tests at the top cover the wording (failed checks by name, plural forms, totals) from
a synthetic ``items.csv`` in the grader's format; the slow ones run the real grader.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import e2e_util as e2e
import harness
from course import progress
from course.grading import learner, selfcheck
from course.grading.selfpaced import mark_scheme

A = "09_selfpaced"
NAMES = ("alpha", "beta", "gamma")
SCHEME = "Full marks for saying that it doubles its input, with an example."
ITEMS = ["student,notebook,cell,item,kind,correct,chosen,points,earned",
         "you,beta,double_tests,value double on negative numbers,value,0,,2,0",
         "you,beta,double_tests,guard double returns a number,guard,1,,2,0",
         "you,beta,quiz_tests,answers[colour],answer,0,\"\"\"red\"\"\",2,1",
         "you,beta,quiz_tests,answers[size],answer,1,\"\"\"big\"\"\",2,1",
         "someone,beta,quiz_tests,answers[size],answer,0,\"\"\"small\"\"\",2,1"]


def _meta(gid: str, *, grade: bool = False, solution: bool = False, points: float = 0) -> dict:
    m = {"grade": grade, "solution": solution, "grade_id": gid, "locked": not solution, "schema_version": 3}
    if grade:
        m["points"] = points
    return {"nbgrader": m}


def source_notebook() -> nbformat.NotebookNode:
    return new_notebook(cells=[
        new_markdown_cell("# A small notebook"),
        new_code_cell("def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
                      metadata=_meta("double", solution=True)),
        new_code_cell("from course.checks import observe\nassert double(1) == 2, 'double(1) should be 2'\n"
                      "### BEGIN HIDDEN TESTS\nobserve('double on negative numbers', lambda: double(-4))\n"
                      "### END HIDDEN TESTS", metadata=_meta("double_tests", grade=True, points=2)),
        new_code_cell("answers = {'colour': ..., 'size': ...}\n### BEGIN SOLUTION\n"
                      "answers = {'colour': 'blue', 'size': 'big'}\n### END SOLUTION",
                      metadata=_meta("quiz", solution=True)),
        new_code_cell("from course.checks import record_answers\nrecord_answers(answers)",
                      metadata=_meta("quiz_tests", grade=True, points=2)),
        new_markdown_cell(f"YOUR ANSWER HERE\n\n=== BEGIN MARK SCHEME ===\n{SCHEME}\n=== END MARK SCHEME ===",
                          metadata=_meta("explain", grade=True, solution=True, points=1)),
    ])


def _fill(nb, gid: str, text: str) -> None:
    next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid).source = text


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course repository with the assignment released, and a learner's work/ folder."""
    repo = tmp_path_factory.mktemp("selfpaced") / "repo"
    (repo / "source" / A).mkdir(parents=True)
    shutil.copy(harness.REPO / "nbgrader_config.py", repo / "nbgrader_config.py")
    for name in NAMES:
        nbformat.write(source_notebook(), repo / "source" / A / f"{name}.ipynb")
    harness.nbgrader(repo, "generate_assignment", A, "--force", "--log-level=WARN")
    work = repo / "work" / A
    work.mkdir(parents=True)
    for name in NAMES:
        nb = harness.released_notebook(repo, A, name)
        if name == "alpha":
            nb = harness.answered(nb, nbformat.read(repo / "source" / A / f"{name}.ipynb", 4))
            _fill(nb, "explain", "It doubles its input: double(3) is 6.")
        elif name == "beta":
            _fill(nb, "double", "def double(x):\n    return 2 * abs(x)")  # wrong on negative numbers
            _fill(nb, "quiz", "answers = {'colour': 'red', 'size': 'big'}")  # one of two right
            _fill(nb, "explain", "It multiplies by two.")
        nbformat.write(nb, work / f"{name}.ipynb")
    return repo


def _check(repo: Path, *args: str) -> subprocess.CompletedProcess:
    env = os.environ | {"PATH": f"{harness.BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run([sys.executable, "-m", "course.grading.selfcheck", *args, "--work", str(repo / "work"),
                           "--repo", str(repo)], capture_output=True, text=True, timeout=900, env=env)


# --- wording, from a synthetic items.csv -----------------------------------------------------------

def test_failed_checks_are_named_plainly_and_never_with_the_right_answer(tmp_path):
    items = tmp_path / "items.csv"
    items.write_text("\n".join(ITEMS) + "\n")
    failed = learner.read_items(items, "you")
    assert failed[("beta", "double_tests")] == ["double on negative numbers"]
    assert failed[("beta", "quiz_tests")] == ["your answer for 'colour'"]
    q = learner.Question("beta", "quiz", 2, 1, failed=failed[("beta", "quiz_tests")])
    line = learner.status(q, "selfpaced")
    assert line == "1 of 2 points; failed: your answer for 'colour'"
    assert "blue" not in line and "red" not in line
    (tmp_path / "bad.csv").write_text("student,notebook\nyou,beta\n")
    with pytest.raises(ValueError, match="lacks the columns"):
        learner.read_items(tmp_path / "bad.csv", "you")
    assert learner.read_items(tmp_path / "missing.csv", "you") == {}


def test_plural_forms_and_totals_speak_to_learners():
    one = learner.Question("n", "a", 1, 1)
    half = learner.Question("n", "b", 2, 0.5)
    free = learner.Question("n", "text", 1, None, free_text=True, answered=False)
    assert learner.status(one, "selfpaced") == "1 of 1 point"
    assert learner.status(half, "selfpaced") == "0.5 of 2 points; some of its checks failed"
    assert learner.status(free, "selfpaced") == "free text, 1 point: not answered yet"
    assert learner.status(free, "class") == "free text, 1 point: to be graded by your instructor"
    free.answered = True
    assert "mark scheme" in learner.status(free, "selfpaced")
    assert learner.totals([one, half, free], "selfpaced") == "autograded: 1.5 of 3 points; free text: 1 point to assess"
    assert learner.totals([one, half, free], "class") == ("autograded: 1.5 of 3 points; free text: 1 point to be "
                                                          "graded by your instructor")
    assert learner.left([one, half, free], "selfpaced") == ["b: 0.5 of 2", "text: free text to assess"]


def test_mark_scheme_is_the_instructors_text_without_markers_or_stub():
    text = f"YOUR ANSWER HERE\n\n=== BEGIN MARK SCHEME ===\n{SCHEME}\n=== END MARK SCHEME ==="
    assert mark_scheme(text) == SCHEME
    assert mark_scheme("**Model answer.** It doubles.") == "**Model answer.** It doubles."


def test_notebook_names_resolve_by_name_prefix_or_path(course):
    assert selfcheck.resolve(course, "beta")[:2] == (A, "beta")
    assert selfcheck.resolve(course, "gam")[:2] == (A, "gamma")
    path = course / "work" / A / "alpha.ipynb"
    assert selfcheck.resolve(course, str(path)) == (A, "alpha", path)
    with pytest.raises(selfcheck.NotFound, match="no notebook 'delta'.*alpha, beta, gamma"):
        selfcheck.resolve(course, "delta")
    (course / "source" / A / "beta2.ipynb").write_text((course / "source" / A / "beta.ipynb").read_text())
    try:
        with pytest.raises(selfcheck.NotFound, match="several notebooks: beta, beta2"):
            selfcheck.resolve(course, "bet")
        assert selfcheck.resolve(course, "beta")[:2] == (A, "beta")  # an exact name wins over a prefix
    finally:
        (course / "source" / A / "beta2.ipynb").unlink()


def test_bad_input_gets_a_clear_error(course):
    proc = _check(course, "--notebook", "delta")
    assert proc.returncode == 2 and "no notebook 'delta'" in proc.stderr
    proc = _check(course, "nonsense")
    assert proc.returncode == 2 and "no module nonsense" in proc.stderr


def test_progress_before_any_check_lists_every_notebook_as_not_checked(tmp_path, course):
    text = progress.table(tmp_path, course / "release")
    for name in NAMES:
        assert f"{name}  " in text
    assert text.count("not checked") == 3 and "? of 4 + 1 free-text point " in text
    assert "0 of 3 notebooks checked" in text
    (tmp_path / "feedback").mkdir()
    (tmp_path / "feedback" / "progress.json").write_text("{not json")
    with pytest.raises(ValueError, match="damaged"):
        progress.table(tmp_path, course / "release")


# --- the real grader (slow) ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def one_notebook(course):
    """`make check NOTEBOOK=beta`: the half-answered notebook alone."""
    proc = _check(course, "--notebook", "beta")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.mark.slow
def test_one_notebook_is_graded_alone_with_learner_words(course, one_notebook):
    out = one_notebook.stdout
    private = course / ".scratch" / "selfcheck"
    assert sorted(p.stem for p in (private / "autograded" / "you" / A).glob("*.ipynb")) == ["beta"]
    assert "alpha" not in out and "gamma" not in out  # neither run nor counted
    assert out.startswith("First check of beta: before grading, the course's own solution runs once")
    assert "beta: autograded: 1 of 4 points; free text: 1 point to assess" in out
    assert "  double   0 of 2 points; " in out and "  quiz     1 of 2 points; " in out
    assert "  explain  free text, 1 point: to assess yourself with the mark scheme" in out
    for instructor_word in ("already graded", "--force", "Isolation", "bubblewrap", "answers recorded", "submission"):
        assert instructor_word not in out, instructor_word
    assert "blue" not in out and SCHEME not in out  # no right answer, and the mark scheme only on the page
    again = _check(course, "--notebook", "beta")
    assert again.returncode == 0 and "First check" not in again.stdout  # the reference is recorded once


@pytest.mark.slow
def test_failed_checks_from_the_graders_items_are_named(course, one_notebook):
    private = course / ".scratch" / "selfcheck"
    items = private / "reports" / A / "items.csv"
    if not items.exists():  # the grader writes it; until then, the same file in its format
        items.parent.mkdir(parents=True, exist_ok=True)
        items.write_text("\n".join(ITEMS) + "\n")
    questions = selfcheck._questions(private, A, ["beta"])["beta"]
    text = "\n".join(learner.lines("beta", questions, "selfpaced"))
    assert "  double   0 of 2 points; failed: double on negative numbers" in text
    assert "  quiz     1 of 2 points; failed: your answer for 'colour'" in text
    assert "'size'" not in text and "blue" not in text


@pytest.mark.slow
def test_feedback_page_opens_with_the_summary_and_shows_a_written_answer_beside_its_mark_scheme(course, one_notebook):
    page = (course / "work" / "feedback" / A / "beta.html").read_text()
    assert "beta: autograded: 1 of 4 points; free text: 1 point to assess" in page
    assert page.index("free text: 1 point to assess") < page.index("A small notebook")
    assert "It multiplies by two." in page and SCHEME in page
    assert "Written response" not in page and "Score: 0.0 / 1.0" not in page and "blue" not in page


@pytest.mark.slow
def test_whole_module_check_and_progress_across_answered_half_and_untouched(course, one_notebook):
    proc = _check(course, A)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "alpha: autograded: 4 of 4 points; free text: 1 point to assess" in out
    assert "beta: autograded: 1 of 4 points" in out
    assert "gamma: autograded: 0 of 4 points; free text: 1 point to assess" in out
    assert "free text, 1 point: not answered yet" in out
    untouched = (course / "work" / "feedback" / A / "gamma.html").read_text()
    assert SCHEME not in untouched  # never the mark scheme before the learner wrote something
    assert SCHEME in (course / "work" / "feedback" / A / "alpha.html").read_text()
    table = progress.table(course / "work", course / "release")
    assert "not checked" not in table and "3 of 3 notebooks checked; autograded points so far: 5 of 12" in table
    rows = {line.split()[1]: line for line in table.splitlines() if line.startswith(A)}
    assert "nothing: full marks" not in rows["alpha"]  # the free text is still to assess
    assert "explain: free text to assess" in rows["alpha"] and "explain: free text to write" in rows["gamma"]
    assert "double: 0 of 2" in rows["beta"] and "quiz: 1 of 2" in rows["beta"]
    cli = subprocess.run([sys.executable, "-m", "course.progress", "--work", str(course / "work"), "--release",
                          str(course / "release")], capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0 and cli.stdout.strip() == table


@pytest.mark.slow
@pytest.mark.e2e
def test_feedback_page_in_a_browser(course, one_notebook):
    """The learner opens the feedback page in Chromium: summary on top, the answer beside its mark scheme."""
    missing = [] if os.access(e2e.CHROMIUM, os.X_OK) else [f"Chromium at {e2e.CHROMIUM}"]
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing.append("playwright (pip)")
    e2e._need(missing)
    page_file = course / "work" / "feedback" / A / "beta.html"
    profile = tempfile.mkdtemp(prefix="gc-chromium-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile, executable_path=e2e.CHROMIUM, headless=True, viewport={"width": 1200, "height": 900},
                args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--no-first-run", "--disable-component-update", "--disable-sync"])
            page = context.new_page()
            page.goto(page_file.as_uri())
            summary = page.locator("#summary")
            assert summary.is_visible()
            assert "autograded: 1 of 4 points; free text: 1 point to assess" in summary.inner_text()
            assert "quiz: 1 of 2 points" in page.locator("#questions").inner_text()
            scheme = page.locator(".markscheme")
            scheme.scroll_into_view_if_needed()
            assert scheme.is_visible() and SCHEME in scheme.inner_text()
            answer_box = scheme.locator("xpath=preceding-sibling::div[1]")
            assert "It multiplies by two." in answer_box.inner_text()
            page.screenshot(path=str(e2e.output_dir("test_selfcheck") / "feedback.png"), full_page=False)
            context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
