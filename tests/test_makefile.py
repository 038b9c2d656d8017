"""The Makefile: every documented target has a recipe, the interpreter is checked first, and the
learner's copies in work/ survive any number of `make lab` runs."""

from __future__ import annotations

import re
import subprocess

import pytest

import harness

from course import workspace


def _make(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=harness.REPO, capture_output=True, text=True,
                          timeout=timeout)


def test_every_documented_target_has_a_recipe():
    makefile = (harness.REPO / "Makefile").read_text()
    documented = re.findall(r'@echo "make (\w+)', makefile)
    assert {"lab", "test", "release", "autograde", "feedback", "grades", "bench", "formgrader"} <= set(documented)
    for target in documented:
        proc = _make("-n", target, "ASSIGNMENT=00_orientation")
        assert proc.returncode == 0, f"make -n {target} fails: {proc.stderr}"
        assert "Nothing to be done" not in proc.stdout + proc.stderr, f"`make {target}` has no recipe"
        assert proc.stdout.strip(), f"`make {target}` would do nothing"


def test_learners_get_the_runtime_and_maintainers_the_test_tools():
    lab = _make("-n", "-B", "lab").stdout
    test = _make("-n", "-B", "test").stdout
    assert "-e ." in lab and ".[dev]" not in lab, "make lab must not install the test tools"
    assert ".[dev]" in test
    assert "-c constraints.txt" in lab and "-c constraints.txt" in test
    assert "cp -n" not in (harness.REPO / "Makefile").read_text()


@pytest.mark.parametrize("python", ["python2.7", "/nonexistent/python3"])
def test_an_unsupported_python_is_refused_with_advice(python):
    proc = _make("lab", f"PYTHON={python}")
    assert proc.returncode != 0
    assert "needs Python 3.11, 3.12 or 3.13" in proc.stdout and "PYTHON=python3.12" in proc.stdout, proc.stdout
    assert "Installing" not in proc.stdout


def test_the_copy_step_can_run_again_and_never_overwrites(tmp_path):
    work = tmp_path / "work"
    first = _make("work", f"WORK={work}")
    assert first.returncode == 0, first.stdout + first.stderr
    notebook = work / "00_orientation" / "00_orientation.ipynb"
    assert notebook.read_bytes() == (harness.REPO / "release" / "00_orientation" / "00_orientation.ipynb").read_bytes()
    notebook.write_text("my answers")
    (work / "START_HERE.ipynb").unlink()
    second = _make("work", f"WORK={work}")
    assert second.returncode == 0, second.stdout + second.stderr
    assert notebook.read_text() == "my answers"
    assert (work / "START_HERE.ipynb").exists(), "a file missing from work/ is copied again"
    third = _make("work", f"WORK={work}")
    assert third.returncode == 0 and "unchanged" in third.stdout


def test_copy_missing_reports_what_it_copied_and_rejects_bad_folders(tmp_path):
    src = tmp_path / "release"
    (src / "m" / ".ipynb_checkpoints").mkdir(parents=True)
    (src / "m" / "a.ipynb").write_text("a")
    (src / "m" / ".ipynb_checkpoints" / "a-checkpoint.ipynb").write_text("x")
    assert [str(p) for p in workspace.copy_missing(src, tmp_path / "w")] == ["m/a.ipynb"]
    assert workspace.copy_missing(src, tmp_path / "w") == []
    with pytest.raises(FileNotFoundError):
        workspace.copy_missing(tmp_path / "missing", tmp_path / "w")
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError):
        workspace.copy_missing(src, tmp_path / "file")
    assert workspace.main(["only-one"]) == 2


def test_make_tests_xdist_groups_keep_each_group_on_one_worker(tmp_path):
    """`make test` runs with ``--dist loadgroup``: the tests of one assignment share its graded course only
    if they share a worker. Some pytest and pytest-xdist pairs ignore the groups silently."""
    import sys

    for name in ("a", "b"):
        (tmp_path / f"test_{name}.py").write_text(
            f"import os, pytest\npytestmark = pytest.mark.xdist_group('{name}')\n"
            "@pytest.mark.parametrize('i', range(4))\n"
            "def test_x(i):\n    print(os.environ['PYTEST_XDIST_WORKER'])\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-v",
                           "-p", "no:cacheprovider", str(tmp_path)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    workers: dict[str, set[str]] = {"a": set(), "b": set()}
    for worker, group in re.findall(r"\[(gw\d)\].*PASSED test_([ab])\.py", proc.stdout):
        workers[group].add(worker)
    assert all(len(w) == 1 for w in workers.values()), workers
