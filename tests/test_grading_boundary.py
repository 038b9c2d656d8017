"""The grader's trust boundary: nothing a kernel creates steers a write, a mode change or a read outside
its sandbox.

Every kernel runs in a new box of its own that nbgrader never writes into. These carriers try what used to
work when a submission's first notebook ran in the folder nbgrader later wrote the second one into: they
plant, under the name of their second notebook, a symbolic link onto a classmate's staged copy, onto
``gradebook.db`` and onto a file outside the course, a FIFO, a folder, and a hard link. All are graded in
one run with two classmates (one unanswered, graded before them; one answered). Each time: the classmates'
grades are what they deserve, nothing in the course folder but the grader's own output changes, the canary
outside the course is untouched, and the carrier is graded with the flag ``planted_file`` and a reason.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import harness

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("boundary")]
A = "00_orientation"
FIRST, SECOND = harness.notebooks(A)  # the carrier's code runs in FIRST and aims at SECOND
CELL_TIMEOUT = 30


def _plant(kind: str, target: str = "") -> str:
    """The carrier's code (in FIRST's answer cell): replace SECOND in its working folder, then answer."""
    make = {
        "symlink": f"os.symlink({target!r}, name)",
        "fifo": "os.mkfifo(name)",
        "folder": "os.mkdir(name)",
        "hardlink": "open('own.txt', 'w').write('x')\nos.link('own.txt', name)",
    }[kind]
    return (f"import os\nname = {SECOND + '.ipynb'!r}\n"
            "try:\n    os.remove(name)\nexcept OSError:\n    pass\n"
            f"{make}\nprint('planted:', os.listdir('.'))\ndefinition = 'b'\n")


def _hash_tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    harness.require_bwrap()
    base = tmp_path_factory.mktemp("boundary")
    root = harness.make_course(base / "course", [A])
    canary = base / "canary.txt"
    canary.write_text("a file outside the course that no grading may touch\n")
    os.chmod(canary, 0o600)
    staged = root / ".scratch" / "grading" / A / "staged" / "aaa_classmate" / A / f"{SECOND}.ipynb"
    released = {n: harness.released_notebook(root, A, n) for n in (FIRST, SECOND)}
    answered = {n: harness.answered(released[n], harness.source_notebook(A, n)) for n in (FIRST, SECOND)}
    carriers = {
        "carrier_classmate": _plant("symlink", str(staged)),
        "carrier_gradebook": _plant("symlink", str(root / "gradebook.db")),
        "carrier_outside": _plant("symlink", str(canary)),
        "carrier_fifo": _plant("fifo"),
        "carrier_folder": _plant("folder"),
        "carrier_hardlink": _plant("hardlink"),
    }
    harness.submit(root, "aaa_classmate", A, {f"{n}.ipynb": released[n] for n in (FIRST, SECOND)})
    harness.submit(root, "zzz_classmate", A, {f"{n}.ipynb": answered[n] for n in (FIRST, SECOND)})
    for student, code in carriers.items():
        # the carrier answers its second notebook in full: written through its link, it would be the classmate's
        harness.submit(root, student, A, {f"{FIRST}.ipynb": harness.with_cell(answered[FIRST], "generative_definition", code),
                                          f"{SECOND}.ipynb": answered[SECOND]})
    kept = {name: _hash_tree(root / name) for name in ("source", "submitted", "release")}
    config = (root / "nbgrader_config.py").read_bytes()
    canary_before = (canary.read_bytes(), os.stat(canary).st_mode, os.stat(canary).st_uid)
    env = os.environ | {"PATH": f"{harness.BIN}{os.pathsep}{os.environ['PATH']}"}
    # one at a time, classmates first and last: the order in which the old attack worked
    proc = subprocess.run([sys.executable, "-m", "course.grading", A, "--root", str(root), "--jobs", "1",
                           "--timeout", str(CELL_TIMEOUT)], env=env, capture_output=True, text=True, timeout=2400)
    return {"root": root, "proc": proc, "report": harness.report_rows(root, A), "results": harness.results(root, A),
            "kept": kept, "config": config, "canary": canary, "canary_before": canary_before, "carriers": carriers,
            "answered": answered}


def test_the_run_completes(attacked):
    assert attacked["proc"].returncode == 0, attacked["proc"].stdout + attacked["proc"].stderr


def test_classmates_get_what_they_handed_in(attacked):
    results, report = attacked["results"], attacked["report"]
    assert report["aaa_classmate"]["status"] == "graded" and results["aaa_classmate"].auto_score == 0, report["aaa_classmate"]
    full = sum(c.max_score for c in results["zzz_classmate"].cells if not c.needs_manual_grade)
    assert results["zzz_classmate"].auto_score == pytest.approx(full)
    assert not report["aaa_classmate"]["flags"] and not report["zzz_classmate"]["flags"]


@pytest.mark.parametrize("student", ["carrier_classmate", "carrier_gradebook", "carrier_outside", "carrier_fifo",
                                     "carrier_folder", "carrier_hardlink"])
def test_each_carrier_is_graded_on_its_own_work_and_flagged(attacked, student):
    row = attacked["report"][student]
    assert row["status"] == "graded", row
    assert "planted_file" in row["flags"].split(";"), row
    assert f"{SECOND}.ipynb" in row["details"] and "grading never follows it" in row["details"], row
    full = sum(c.max_score for c in attacked["results"]["zzz_classmate"].cells if not c.needs_manual_grade)
    assert float(row["score"]) == pytest.approx(full), "the carrier's own answers are graded as handed in"


def test_nothing_outside_the_carriers_scratch_changed(attacked):
    root = attacked["root"]
    for name, before in attacked["kept"].items():
        assert _hash_tree(root / name) == before, f"{name}/ changed"
    assert (root / "nbgrader_config.py").read_bytes() == attacked["config"]
    canary = attacked["canary"]
    assert (canary.read_bytes(), os.stat(canary).st_mode, os.stat(canary).st_uid) == attacked["canary_before"]
    with sqlite3.connect(root / "gradebook.db") as db:  # still a gradebook, owned and readable as before
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert os.stat(root / "gradebook.db").st_uid == os.geteuid()
    for path in (root / "autograded").rglob("*"):
        assert not path.is_symlink() and (path.is_dir() or path.is_file()), path


def test_the_graded_second_notebooks_are_the_students_own(attacked):
    root = attacked["root"]
    nb = harness.autograded_notebook(root, "aaa_classmate", A, SECOND)
    solution = harness.answered(harness.released_notebook(root, A, SECOND), harness.source_notebook(A, SECOND))
    ours = [c.source for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution")]
    theirs = [c.source for c in solution.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution")]
    assert ours != theirs, "the unanswered classmate's notebook was replaced by a carrier's answers"
