"""release/ is exactly what nbgrader makes from source/ today, and it leaks nothing."""

from __future__ import annotations

import json

import nbformat
import pytest

import harness

ASSIGNMENTS = harness.assignments()
REPO = harness.REPO


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    return harness.make_course(tmp_path_factory.mktemp("regenerated"), ASSIGNMENTS)


def _files(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


#: files `make release` copies into release/ beside the assignments: release path -> source path
COPIED = {"START_HERE.ipynb": "source/START_HERE.ipynb", "glossary.md": "docs/glossary.md"}


@pytest.mark.slow
def test_release_is_what_generate_assignment_makes(regenerated):
    committed, fresh = REPO / "release", regenerated / "release"
    assert sorted(set(_files(committed)) - set(COPIED)) == _files(fresh), \
        "release/ has other files than nbgrader makes: run `make release`"
    for rel in _files(fresh):
        a, b = (committed / rel), (fresh / rel)
        if rel.endswith(".ipynb"):
            same = nbformat.read(a, 4) == nbformat.read(b, 4)
        else:
            same = a.read_bytes() == b.read_bytes()
        assert same, f"release/{rel} differs from what nbgrader generates from source/: run `make release`"


@pytest.mark.parametrize("released, source", COPIED.items())
def test_course_home_is_copied_into_release(released, source):
    assert (REPO / "release" / released).read_bytes() == (REPO / source).read_bytes(), \
        f"release/{released} differs from {source}: run `make release`"


def test_every_assignment_is_released():
    assert ASSIGNMENTS, "no assignments in source/"
    for a in ASSIGNMENTS:
        for name in harness.notebooks(a):
            assert (REPO / "release" / a / f"{name}.ipynb").exists(), f"release/{a}/{name}.ipynb is missing"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_holds_no_solution_hidden_test_or_answer(assignment):
    for name in harness.notebooks(assignment):
        text = (REPO / "release" / assignment / f"{name}.ipynb").read_text()
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "BEGIN MARK SCHEME"):
            assert marker not in text, f"release/{assignment}/{name} contains '{marker}'"
        released = "\n".join(c.source for c in nbformat.read(REPO / "release" / assignment / f"{name}.ipynb", 4).cells)
        source = nbformat.read(REPO / "source" / assignment / f"{name}.ipynb", 4)
        # a line that the source also shows outside its solution regions (a template, say) is no leak
        public = {l.strip() for c in source.cells for l in harness.solution_regions(c.source, inside=False)}
        for cell in source.cells:
            for line in harness.solution_regions(cell.source):
                s = line.strip()
                if len(s) > 12 and not s.startswith("#") and s not in public:
                    assert s not in released, f"release/{assignment}/{name} shows a solution or hidden-test line: {s!r}"
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("solution") and cell.cell_type == "markdown":
                for para in cell.source.split("\n\n"):
                    if len(para.strip()) > 40:
                        assert para.strip() not in released, f"release/{assignment}/{name} shows a model answer"


@pytest.mark.parametrize("folder", ["source", "release"])
def test_notebooks_are_stored_without_outputs(folder):
    for path in sorted((REPO / folder).rglob("*.ipynb")):
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert not cell.get("outputs"), f"{path.relative_to(REPO)} is stored with outputs"
                assert cell.get("execution_count") is None, f"{path.relative_to(REPO)} is stored with execution counts"
