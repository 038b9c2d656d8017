"""The course home (README's course map, release/START_HERE.ipynb) agrees with the notebooks."""

from __future__ import annotations

import re

import nbformat
import pytest

import harness

REPO = harness.REPO


def assignment_points(assignment: str) -> float:
    total = 0.0
    for name in harness.notebooks(assignment):
        for cell in harness.source_notebook(assignment, name).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade"):
                total += meta["points"]
    return total


def table_points(text: str) -> dict[str, float]:
    """Module number -> points, from markdown table rows that start with a module id and end with points."""
    rows = re.findall(r"^\|\s*`?(\d\d)[^|\n]*\|.*\|\s*(\d+)\s*\|\s*$", text, flags=re.M)
    return {number: float(points) for number, points in rows}


@pytest.mark.parametrize("where", ["README.md", "source/START_HERE.ipynb"])
def test_course_map_lists_every_assignment_with_its_points(where):
    path = REPO / where
    text = path.read_text() if path.suffix == ".md" else "\n".join(c.source for c in nbformat.read(path, 4).cells)
    listed = table_points(text)
    for assignment in harness.assignments():
        number = assignment[:2]
        assert number in listed, f"{where} does not list {assignment}"
        assert listed[number] == assignment_points(assignment), \
            f"{where} gives {assignment} {listed[number]:g} points; its notebooks carry {assignment_points(assignment):g}"


def test_start_here_links_to_every_notebook():
    nb = nbformat.read(REPO / "source" / "START_HERE.ipynb", 4)
    links = set(re.findall(r"\]\(([^)]+\.ipynb)\)", "\n".join(c.source for c in nb.cells)))
    wanted = {f"{a}/{n}.ipynb" for a in harness.assignments() for n in harness.notebooks(a)}
    assert links == wanted
    assert all((REPO / "release" / link).exists() for link in links)
