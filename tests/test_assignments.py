"""The grading invariants, for every assignment in source/ (CONTRIBUTING.md, "Grading conventions").

One autograde run per assignment (the source notebooks as student ``solution``, the released
ones as student ``blank``) serves as the execution test, the runaway check and the full-marks test.
The 60 s budget per notebook is measured and judged by ``make bench``, not asserted here: other
tests run beside these on two cores, so a timing assert near the budget would flake.
"""

from __future__ import annotations

import re

import pytest

import harness

ASSIGNMENTS = harness.assignments()
pytestmark = pytest.mark.slow


def per_assignment(test):
    params = [pytest.param(a, marks=pytest.mark.xdist_group(a)) for a in ASSIGNMENTS]
    return pytest.mark.parametrize("assignment", params)(test)


@per_assignment
def test_solution_scores_full_autograded_marks(graded, assignment):
    result = graded(assignment).results["solution"]
    assert result.auto_max > 0, "the assignment has no autograded points"
    lost = [f"{c.notebook}:{c.name} {c.score}/{c.max_score}" for c in result.cells if c.autograded and c.score != c.max_score]
    assert not lost, f"the solutions lose points: {lost}"


@per_assignment
def test_every_test_cell_is_scored_outside_the_kernel(graded, assignment):
    """No test cell lets the learner's kernel decide its score: each one records answers or
    observations that the grader compares with the instructor notebook's (docs/grading.md)."""
    report = graded(assignment).report
    for student in ("solution", "blank"):
        flags = set(filter(None, report[student]["flags"].split(";")))
        assert "scored_in_kernel" not in flags, f"{student}: {report[student]['details']}"


@per_assignment
def test_released_notebooks_carry_no_answer_key(assignment):
    """Nothing students receive gives a graded answer away: no answer hashes or salts, no
    item-by-item self-check of graded answers, no hidden tests (the grader puts them back)."""
    for name in harness.notebooks(assignment):
        for cell in harness.released_notebook(harness.REPO, assignment, name).cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type != "code" or not (meta.get("grade") or meta.get("solution")):
                continue  # ungraded practice questions may check themselves
            for marker in ("HASHES", "SALT", "self_check(", "answer_hash", "BEGIN HIDDEN TESTS"):
                assert marker not in cell.source, f"{name}:{meta.get('grade_id')} contains {marker}"


@per_assignment
def test_unanswered_release_scores_zero(graded, assignment):
    result = graded(assignment).results["blank"]
    earned = [f"{c.notebook}:{c.name} {c.score}" for c in result.cells if c.autograded and c.score]
    assert not earned, f"an unanswered notebook earns points: {earned}"


@per_assignment
def test_solution_notebooks_run_without_errors(graded, assignment):
    run = graded(assignment)
    for name in harness.notebooks(assignment):
        errs = harness.errors(run.notebook("solution", name))
        assert not errs, f"{name} raises with its solutions in place: {errs}"


#: A hard cap that only catches a runaway notebook: four times the 60 s budget, six times the slowest
#: notebook measured alone (about 40 s). The times themselves are printed at the end of the run.
RUNAWAY_SECONDS = 240


@per_assignment
def test_no_notebook_runs_away(graded, assignment, record_property):
    run = graded(assignment)
    for student, seconds in run.seconds.items():
        record_property(f"autograde {assignment} ({student}, whole nbgrader run)", round(seconds, 1))
    runaway = []
    for name in harness.notebooks(assignment):
        seconds = harness.notebook_seconds(run.notebook("solution", name))
        record_property(f"execute {assignment}/{name}", round(seconds, 1))
        if seconds > RUNAWAY_SECONDS:
            runaway.append(f"{name} took {seconds:.0f} s")
    assert not runaway, f"far over the 60 s budget (cap {RUNAWAY_SECONDS} s) with solutions in place: {runaway}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_points_are_stated_and_cells_are_well_formed(assignment):
    for name in harness.notebooks(assignment):
        nb = harness.source_notebook(assignment, name)
        ids, total = [], 0.0
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if not meta:
                continue
            ids.append(meta["grade_id"])
            if meta.get("grade"):
                assert meta.get("points", 0) > 0, f"{name}: graded cell {meta['grade_id']} has no points"
                total += meta["points"]
        assert len(ids) == len(set(ids)), f"{name}: duplicate grade ids"
        text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        stated = re.findall(r"(?:Total|Points in this notebook):\**\s*([0-9]+(?:\.[0-9]+)?)", text)
        assert stated, f"{name}: the notebook does not state its points total ('Total: N')"
        assert float(stated[-1]) == total, f"{name}: states a total of {stated[-1]} but its cells carry {total:g}"
