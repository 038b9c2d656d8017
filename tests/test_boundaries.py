"""The grader and the learner's package stay apart: notebooks never import the grader, the learner's
modules import no nbgrader or Jupyter client, and the grader imports no torch."""

from __future__ import annotations

import json
import subprocess
import sys

import harness

LEARNER_MODULES = sorted(p.stem for p in (harness.REPO / "course").glob("*.py")
                         if p.stem not in {"__init__", "__main__"})
GRADER_MODULES = sorted(p.stem for p in (harness.REPO / "course" / "grading").glob("*.py")
                        if p.stem not in {"__init__", "__main__"})


def _imported_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nimport json\nprint(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          cwd=harness.REPO)
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_learner_modules_import_no_grading_machinery():
    assert LEARNER_MODULES, "no learner modules found"
    loaded = _imported_after("\n".join(f"import course.{m}" for m in LEARNER_MODULES))
    leaked = sorted(m for m in loaded if m.split(".")[0] in {"nbgrader", "jupyter_client", "nbclient"}
                    or m.startswith("course.grading"))
    assert not leaked, f"learner modules import grading machinery: {leaked[:10]}"


def test_the_grader_imports_no_torch():
    assert {"command", "runner", "sandbox", "scoring", "integrity", "selfcheck"} <= set(GRADER_MODULES)
    loaded = _imported_after("\n".join(f"import course.grading.{m}" for m in GRADER_MODULES))
    assert "torch" not in loaded


def test_no_notebook_imports_the_grader():
    for path in sorted((harness.REPO / "source").rglob("*.ipynb")):
        text = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"])
        assert "course.grading" not in text and "from course import grading" not in text, path.name


def test_the_bench_needs_no_test_runner():
    """The benchmarks reuse one module of the tests, the throw-away course builder (tests/courses.py), and
    nothing else of them: that module, and so the bench, runs without pytest or the test harness."""
    for path in sorted((harness.REPO / "bench").glob("*.py")):
        text = path.read_text()
        assert "import harness" not in text and "import pytest" not in text and "from test" not in text, path.name
    loaded = _imported_after(f"import sys; sys.path.insert(0, {str(harness.REPO / 'tests')!r}); import courses")
    assert "pytest" not in loaded and "harness" not in loaded and "conftest" not in loaded
