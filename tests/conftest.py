"""Shared fixtures. The expensive one, ``graded``, autogrades one assignment once per test session
(per xdist worker); tests of one assignment share an ``xdist_group`` so they land on the same worker."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import harness  # noqa: E402


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    """``graded(assignment)`` -> :class:`harness.GradedRun` (solution and blank students, autograded)."""
    cache: dict[str, harness.GradedRun] = {}

    def get(assignment: str) -> harness.GradedRun:
        if assignment not in cache:
            root = tmp_path_factory.mktemp(f"course-{assignment}")
            cache[assignment] = harness.grade_solution_and_blank(root, assignment)
        return cache[assignment]

    return get


def pytest_terminal_summary(terminalreporter):
    """Print the times the tests measured (recorded with ``record_property``), so CI logs show them."""
    rows = []
    for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", []):
        if report.when == "call":
            rows += [(k, v) for k, v in report.user_properties if isinstance(v, (int, float))]
    if rows:
        terminalreporter.section("measured times (s)")
        for key, value in sorted(rows):
            terminalreporter.write_line(f"{value:8.1f}  {key}")
