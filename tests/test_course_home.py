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


def notebook_minutes(assignment: str) -> int:
    """The sum of the "Time: about N minutes" that each notebook of the assignment states."""
    total = 0
    for name in harness.notebooks(assignment):
        text = harness.source_notebook(assignment, name).cells[0].source
        found = re.search(r"Time:\*\*\s*about (\d+) minutes", text)
        assert found, f"{assignment}/{name} states no time in its first cell"
        total += int(found.group(1))
    return total


@pytest.mark.parametrize("where", ["README.md", "source/START_HERE.ipynb"])
def test_stated_module_times_add_up(where):
    path = REPO / where
    text = path.read_text() if path.suffix == ".md" else "\n".join(c.source for c in nbformat.read(path, 4).cells)
    rows = re.findall(r"^\|\s*`?(\d\d)[^\n]*?\|\s*([\d +]+) min\s*\|\s*\d+\s*\|\s*$", text, flags=re.M)
    stated = {number: sum(int(x) for x in minutes.split("+")) for number, minutes in rows}
    for assignment in harness.assignments():
        assert stated.get(assignment[:2]) == notebook_minutes(assignment), \
            f"{where} gives {assignment} {stated.get(assignment[:2])} min; its notebooks state {notebook_minutes(assignment)}"


def test_start_here_links_to_every_notebook():
    nb = nbformat.read(REPO / "source" / "START_HERE.ipynb", 4)
    links = set(re.findall(r"\]\(([^)]+\.ipynb)\)", "\n".join(c.source for c in nb.cells)))
    wanted = {f"{a}/{n}.ipynb" for a in harness.assignments() for n in harness.notebooks(a)}
    assert links == wanted
    assert all((REPO / "release" / link).exists() for link in links)


SOURCE_NOTEBOOKS = sorted((REPO / "source").glob("*/*.ipynb")) + [REPO / "source" / "START_HERE.ipynb"]


@pytest.mark.parametrize("path", SOURCE_NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO / "source")))
def test_one_title_headings_in_order_and_a_text_alternative_for_every_figure(path):
    """Accessibility: one H1 per notebook, no heading level skipped, and every plotted figure followed by a
    '*Figure: ...*' text that says what it shows (or '*Figures: ...*', '*Figure (drawn at ...): ...*')."""
    nb = nbformat.read(path, as_version=4)
    levels = [len(m.group(1)) for c in nb.cells if c.cell_type == "markdown"
              for m in re.finditer(r"^(#+) ", c.source, flags=re.M)]
    assert levels and levels[0] == 1 and levels.count(1) == 1, f"one H1 first, found levels {levels}"
    skipped = [(a, b) for a, b in zip(levels, levels[1:]) if b > a + 1]
    assert not skipped, f"heading levels skip: {skipped}"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "plt.show()" in cell.source:
            following = [c.source for c in nb.cells[i + 1:i + 3] if c.cell_type == "markdown"]
            assert any(t.lstrip().startswith("*Figure") for t in following), \
                f"cell {i} shows a figure without a '*Figure: ...*' text alternative after it"


# How each notebook's time is estimated (README, "How long it takes"): reading its prose at 150 words a minute,
# reading and running its given code at 20 lines a minute, 5 minutes for each function the learner writes,
# 1 minute per point of a structured question and 2 minutes per point of an answer written for a person to mark.
WORDS_PER_MINUTE, CODE_LINES_PER_MINUTE, MINUTES_PER_FUNCTION = 150, 20, 5
MINUTES_PER_QUESTION_POINT, MINUTES_PER_WRITTEN_POINT = 1, 2


def estimated_minutes(nb) -> float:
    """The README's rule applied to one notebook."""
    minutes = 0.0
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "markdown" and meta.get("grade"):
            minutes += MINUTES_PER_WRITTEN_POINT * meta["points"]
        elif cell.cell_type == "markdown":
            minutes += len(re.findall(r"\w+", cell.source)) / WORDS_PER_MINUTE
        elif meta.get("grade"):  # a test cell: a structured question records answers, otherwise a function
            structured = "record_answers(" in cell.source
            minutes += MINUTES_PER_QUESTION_POINT * meta["points"] if structured else MINUTES_PER_FUNCTION
        elif not meta:
            minutes += len(cell.source.splitlines()) / CODE_LINES_PER_MINUTE
    return minutes


def test_each_notebooks_stated_time_follows_the_readmes_rule():
    """Stated times are estimates from one rule, not guesses: each within 15% (or 5 minutes) of it."""
    readme = (REPO / "README.md").read_text()
    assert f"{WORDS_PER_MINUTE} words a minute" in readme and f"{CODE_LINES_PER_MINUTE} lines a minute" in readme
    off = {}
    for assignment in harness.assignments():
        for name in harness.notebooks(assignment):
            nb = harness.source_notebook(assignment, name)
            stated = int(re.search(r"Time:\*\*\s*about (\d+) minutes", nb.cells[0].source).group(1))
            rule = estimated_minutes(nb)
            if abs(stated - rule) > max(5, 0.15 * rule):
                off[f"{assignment}/{name}"] = (stated, round(rule))
    assert not off, f"stated against estimated minutes (round the estimate to 5 minutes): {off}"
