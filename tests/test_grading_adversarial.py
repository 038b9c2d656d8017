"""Broken and hostile submissions of 00_orientation, graded in one run: none is lost, none
changes another student's grade, and each scores what it deserves."""

from __future__ import annotations


import pytest

import harness

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("adversarial")]
A, NB = "00_orientation", "00_orientation"


@pytest.fixture(scope="module")
def adversarial(tmp_path_factory):
    root = harness.make_course(tmp_path_factory.mktemp("adversarial"), [A])
    solved = harness.source_notebook(A, NB)
    released = harness.released_notebook(root, A, NB)
    wrong = harness.with_cell(released, "map_systems",
                  "system_categories = {k: {'generative'} for k in " + repr(harness.template_keys(solved, "map_systems")) + "}")
    wrong = harness.with_cell(wrong, "judge_claims", "claims = {k: 'true' for k in " + repr(harness.template_keys(solved, "judge_claims")) + "}")
    wrong = harness.with_cell(wrong, "generative_definition", "definition = 'a'")
    students = {
        "solution": solved,
        "blank": released,
        "wrong": wrong,
        "syntax_error": harness.with_cell(solved, "map_systems", "system_categories = {'Stable Diffusion': {'generative'}\n"),
        "endless_loop": harness.with_cell(solved, "generative_definition", "while True:\n    pass"),
        "tampered_test": harness.with_cell(harness.with_cell(solved, "generative_definition", "definition = 'a'"),
                               "generative_definition_tests", "pass"),
        # a test cell deleted to hide a wrong answer is put back (and fails), not left for manual grading
        "deleted_test": harness.without_cell(harness.with_cell(solved, "generative_definition", "definition = 'a'"),
                                 "generative_definition_tests"),
    }
    for student, nb in students.items():
        harness.submit(root, student, A, {f"{NB}.ipynb": nb})
    harness.submit(root, "corrupt", A, {f"{NB}.ipynb": b"this is not a notebook {"})
    # Every cell of this notebook runs in well under a second, so a short timeout keeps the test fast.
    proc = harness.nbgrader(root, "autograde", A, "--create", "--Execute.timeout=15", check=False)
    return proc, harness.results(root, A), root


EXPECTED = {
    "solution": 12.0,
    "blank": 0.0,
    # wrong: 2 of 11 systems right (6 * 2/11), 1 of 8 claims (4 * 1/8), definition wrong
    "wrong": round(6 * 2 / 11, 3) + 0.5,
    "syntax_error": 6.0,
    "endless_loop": 10.0,
    "tampered_test": 10.0,
    "deleted_test": 10.0,
}


@pytest.mark.parametrize("student", list(EXPECTED))
def test_each_submission_scores_what_it_deserves(adversarial, student):
    _, results, _ = adversarial
    assert student in results, f"{student} was not graded"
    assert results[student].auto_score == pytest.approx(EXPECTED[student], abs=1e-3)


def test_no_cell_is_left_for_manual_grading_except_the_free_text(adversarial):
    _, results, _ = adversarial
    for student, res in results.items():
        if student == "corrupt":  # never executed: see the next test
            continue
        manual = [c.name for c in res.cells if c.needs_manual_grade]
        assert set(manual) <= {"colleague_claim_text"}, f"{student}: {manual} need manual grading"


def test_tampered_and_deleted_test_cells_are_restored(adversarial):
    _, _, root = adversarial
    for student in ("tampered_test", "deleted_test"):
        nb = harness.autograded_notebook(root, student, A, NB)
        tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "generative_definition_tests"]
        assert len(tests) == 1 and "BEGIN HIDDEN TESTS" in tests[0].source, student


def test_endless_loop_is_stopped_by_the_timeout(adversarial):
    _, _, root = adversarial
    nb = harness.autograded_notebook(root, "endless_loop", A, NB)
    assert any("Timeout" in e or "Interrupt" in e for e in harness.errors(nb)), harness.errors(nb)


def test_unreadable_notebook_is_reported_and_the_others_still_graded(adversarial):
    proc, results, _ = adversarial
    # nbgrader records the submission but grades none of its cells; it must not pass as a plain 0.
    assert "corrupt" not in results or all(c.score in (None, 0) for c in results["corrupt"].cells)
    assert "corrupt" in proc.stdout + proc.stderr, "the unreadable submission is not reported"
    assert set(EXPECTED) <= set(results)
