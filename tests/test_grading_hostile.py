"""Hostile and broken submissions of 00_orientation, graded by ``python -m course.grading`` in one
parallel run: each scores what it deserves, carries the expected integrity flags, cannot see or
change anything outside its own folder, and changes no other student's grade."""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import harness

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("hostile")]
A = NB = "00_orientation"
CELL_TIMEOUT = 10  # every cell of this notebook runs in well under a second


def _snoop(root: Path) -> str:
    """Code that answers right only if it can neither read nor write anything outside its folder."""
    targets = [
        "../../../source", "../../../gradebook.db", "../../../submitted", "../../correct",
        str(root / "source" / A / f"{NB}.ipynb"), str(root / "gradebook.db"), str(root / "autograded"),
        str(root / "submitted" / "correct" / A / f"{NB}.ipynb"), str(harness.REPO / "source"),
        str(harness.REPO / "nbgrader_config.py"), str(root.parent / "secret.txt"), "/etc/shadow",
    ]
    writes = [str(root / "submitted" / "correct" / A / "planted.txt"), str(root / "planted.txt"),
              "../../../source/planted.txt", "/usr/planted.txt"]
    return f"""import os
leaked = []
for p in {targets!r}:
    try:
        if (os.listdir(p) if os.path.isdir(p) else open(p, "rb").read()):
            leaked.append(p)
    except OSError:
        pass
for p in {writes!r}:
    try:
        open(p, "w").write("x")
        leaked.append(p)
    except OSError:
        pass
try:  # the notebook being graded holds the hidden tests
    if b"HIDDEN" in open("{NB}.ipynb", "rb").read():
        leaked.append("{NB}.ipynb")
except OSError:
    pass
print("leaked:", leaked)
definition = "b" if not leaked else "a"
"""


def _network(port: int) -> str:
    """Code that answers right only if no connection (host loopback, unroutable address, DNS) works."""
    return f"""import socket
reached = []
for host, port in [("127.0.0.1", {port}), ("10.255.255.1", 80), ("192.0.2.1", 443)]:
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect((host, port))
        reached.append(host)
    except OSError:
        pass
    finally:
        s.close()
try:
    socket.getaddrinfo("example.com", 80)
    reached.append("dns")
except OSError:
    pass
print("reached:", reached)
definition = "b" if not reached else "a"
"""


# student -> (expected autograded score or None if not graded, expected flags)
EXPECTED = {
    "correct": (12.0, set()),
    # 2 of 11 systems right (6 x 2/11), 3 of 8 claims (the three true ones, 4 x 3/8), definition wrong
    "wrong": (round(6 * 2 / 11 + 4 * 3 / 8, 3), set()),
    "empty": (0.0, set()),
    "syntax_error": (6.0, set()),
    "endless_loop": (10.0, {"cell_timeout"}),
    "huge_output": (12.0, {"output_truncated"}),
    "memory_hog": (10.0, {"memory_cap"}),
    "kernel_dies": (10.0, {"kernel_died"}),
    "tampered_test": (10.0, {"test_cell_changed"}),
    "deleted_test": (10.0, {"test_cell_deleted"}),
    # rebinding builtins and test helpers no longer helps (the score is decided outside the kernel),
    # and it does not go unnoticed
    "monkeypatch": (10.0, {"tampering"}),
    # a module of its own next to the notebook: flagged, and it cannot replace the kernel itself
    "fake_kernel": (10.0, {"tampering"}),
    "not_json": (None, {"notebook_unreadable"}),
    "snoop_files": (12.0, set()),
    "network": (12.0, set()),
    "worker_killed": (None, set()),
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    harness.require_bwrap()
    root = harness.make_course(tmp_path_factory.mktemp("hostile") / "course", [A])
    (root.parent / "secret.txt").write_text("the instructor's notes")
    solved = harness.source_notebook(A, NB)
    released = harness.released_notebook(root, A, NB)
    good = harness.answered(released, solved)
    wrong = harness.with_cell(released, "map_systems",
                  "system_categories = {k: {'generative'} for k in " + repr(harness.template_keys(solved, "map_systems")) + "}")
    wrong = harness.with_cell(wrong, "judge_claims", "claims = {k: 'true' for k in " + repr(harness.template_keys(solved, "judge_claims")) + "}")
    wrong = harness.with_cell(wrong, "generative_definition", "definition = 'a'")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    notebooks = {
        "correct": good,
        "wrong": wrong,
        "empty": released,
        "syntax_error": harness.with_cell(good, "map_systems", "system_categories = {'protein backbone generator': {'generative'}\n"),
        "endless_loop": harness.with_cell(good, "generative_definition", "while True:\n    pass"),
        "huge_output": harness.with_cell(good, "generative_definition",
                             "for i in range(20_000):\n    print(i, 'x' * 50)\ndefinition = 'b'"),
        "memory_hog": harness.with_cell(good, "generative_definition",
                            "hog = []\nwhile True:\n    hog.append(bytearray(200 * 2**20))"),
        # (signal number 9, SIGKILL, by value: importing ``signal`` is itself flagged, it can outlast a timeout)
        "kernel_dies": harness.with_cell(good, "generative_definition", "import os\nos.kill(os.getpid(), 9)"),
        "tampered_test": harness.with_cell(harness.with_cell(good, "generative_definition", "definition = 'a'"),
                               "generative_definition_tests", "pass"),
        "deleted_test": harness.without_cell(harness.with_cell(good, "generative_definition", "definition = 'a'"),
                                 "generative_definition_tests"),
        "monkeypatch": harness.with_cell(good, "generative_definition",
                             "import numpy as np\nnp.testing.assert_equal = lambda *a, **k: None\n"
                             "str = lambda x: 'b'\ndefinition = 'a'"),
        "snoop_files": harness.with_cell(good, "generative_definition", _snoop(root)),
        "network": harness.with_cell(good, "generative_definition", _network(listener.getsockname()[1])),
        "worker_killed": good,
    }
    # the assignment's other notebooks are handed in as released (unanswered): the attacks are all in NB
    others = {f"{n}.ipynb": harness.released_notebook(root, A, n) for n in harness.notebooks(A) if n != NB}
    for student, nb in notebooks.items():
        harness.submit(root, student, A, {f"{NB}.ipynb": nb, **others})
    harness.submit(root, "not_json", A, {f"{NB}.ipynb": b"this is not a notebook {", **others})
    harness.submit(root, "fake_kernel", A, {f"{NB}.ipynb": harness.with_cell(good, "generative_definition", "definition = 'a'"),
                                            "ipykernel_launcher.py": "raise SystemExit('a kernel of my own')\n", **others})
    before = {p: p.read_bytes() for p in (root / "submitted").rglob("*") if p.is_file()}
    # A worker that dies mid-grading (as if the machine's OOM killer took it): Python's startup hook
    # kills the nbgrader process that grades "worker_killed", and only that one.
    hook = root.parent / "hook"  # outside the course: the sandbox cannot see it either
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import os, sys, threading\n"
        "if 'worker_killed' in sys.argv:\n"
        "    threading.Timer(3, os.kill, (os.getpid(), 9)).start()\n")
    env = os.environ | {"PYTHONPATH": str(hook), "PATH": f"{harness.BIN}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run([sys.executable, "-m", "course.grading", A, "--root", str(root), "--jobs", "2",
                           "--timeout", str(CELL_TIMEOUT), "--memory", "2G"],
                          env=env, capture_output=True, text=True, timeout=1500)
    try:
        accepted = listener.accept()
    except BlockingIOError:
        accepted = None
    listener.close()
    with open(root / "reports" / A / "integrity.csv") as fh:
        report = {row["student"]: row for row in csv.DictReader(fh)}
    return {"root": root, "proc": proc, "report": report, "results": harness.results(root, A),
            "before": before, "accepted": accepted}


def test_the_run_succeeds_and_prints_the_summary(hostile):
    proc = hostile["proc"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Isolation: bubblewrap sandbox" in proc.stdout
    assert "not graded (not_json, worker_killed)" in proc.stdout, proc.stdout
    assert "killed (signal 9)" in hostile["report"]["worker_killed"]["details"]


@pytest.mark.parametrize("student", list(EXPECTED))
def test_each_submission_scores_what_it_deserves_with_its_flags(hostile, student):
    score, flags = EXPECTED[student]
    row = hostile["report"][student]
    assert set(filter(None, row["flags"].split(";"))) == flags, row
    if score is None:
        assert row["status"] == "NOT GRADED" and row["score"] == "" and row["details"], row
        assert student not in hostile["results"], "an ungraded submission must not sit in the gradebook"
    else:
        assert row["status"] == "graded", row
        assert float(row["score"]) == pytest.approx(score, abs=1e-3), row
        assert hostile["results"][student].auto_score == pytest.approx(score, abs=1e-3)


def test_no_cell_is_left_for_manual_grading_except_the_free_text(hostile):
    for student, res in hostile["results"].items():
        manual = [c.name for c in res.cells if c.needs_manual_grade]
        assert set(manual) <= {"colleague_claim_text"}, f"{student}: {manual}"


def test_nothing_outside_a_submission_was_read_or_changed(hostile):
    root = hostile["root"]
    nb = harness.autograded_notebook(root, "snoop_files", A, NB)
    assert "leaked: []" in str(nb.cells), "the sandbox let the submission see files outside its folder"
    after = {p: p.read_bytes() for p in (root / "submitted").rglob("*") if p.is_file()}
    assert after == hostile["before"], "submitted/ was changed"
    assert not list(root.rglob("planted.txt"))


def test_no_network_from_inside(hostile):
    nb = harness.autograded_notebook(hostile["root"], "network", A, NB)
    assert "reached: []" in str(nb.cells)
    assert hostile["accepted"] is None, "a submission connected to the grader's loopback"


def test_memory_hog_hits_the_cap_and_the_endless_loop_the_timeout(hostile):
    hog = harness.errors(harness.autograded_notebook(hostile["root"], "memory_hog", A, NB))
    assert any("MemoryError" in e for e in hog), hog
    loop = harness.errors(harness.autograded_notebook(hostile["root"], "endless_loop", A, NB))
    assert any("Timeout" in e for e in loop), loop


def test_deleted_and_tampered_test_cells_are_graded_with_the_originals(hostile):
    for student in ("tampered_test", "deleted_test"):
        nb = harness.autograded_notebook(hostile["root"], student, A, NB)
        tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "generative_definition_tests"]
        original = [c for c in harness.source_notebook(A, NB).cells
                    if c.metadata.get("nbgrader", {}).get("grade_id") == "generative_definition_tests"]
        assert len(tests) == 1 and tests[0].source == original[0].source, student


def test_a_sequential_regrade_leaves_the_same_gradebook(hostile):
    root = hostile["root"]

    def grades():
        return {s: sorted((c.notebook, c.name, c.score, c.needs_manual_grade) for c in r.cells)
                for s, r in harness.results(root, A).items()}

    before = grades()
    args = ["--student", "wrong", "--student", "deleted_test", "--student", "kernel_dies"]
    proc = subprocess.run([sys.executable, "-m", "course.grading", A, "--root", str(root), "--jobs", "1",
                           "--timeout", str(CELL_TIMEOUT), "--force", *args],
                          capture_output=True, text=True, timeout=900,
                          env=os.environ | {"PATH": f"{harness.BIN}{os.pathsep}{os.environ['PATH']}"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert grades() == before


def test_feedback_has_short_messages_and_no_hidden_tests(hostile):
    root = hostile["root"]
    harness.nbgrader(root, "generate_feedback", A, "--force")
    html = (root / "feedback" / "wrong" / A / f"{NB}.html").read_text()
    assert "BEGIN HIDDEN TESTS" not in html and "BEGIN SOLUTION" not in html
    assert "most recent call last" not in html
    # the syntax error's feedback says what failed, in one line
    html = (root / "feedback" / "syntax_error" / A / f"{NB}.html").read_text()
    assert "SyntaxError" in html and "most recent call last" not in html


def test_plain_nbgrader_autograde_refuses_and_changes_no_grade(hostile):
    """nbgrader on its own (the command, the formgrader's button) would run student code with the
    instructor's rights and let it decide its score: it refuses with directions instead."""
    root = hostile["root"]
    before = {s: r.auto_score for s, r in harness.results(root, A).items()}
    harness.submit(root, "late", A, {f"{n}.ipynb": harness.released_notebook(root, A, n) for n in harness.notebooks(A)})
    proc = harness.nbgrader(root, "autograde", A, "--create", check=False)
    assert proc.returncode != 0
    assert f"make autograde ASSIGNMENT={A}" in proc.stdout + proc.stderr
    assert not list((root / "autograded").glob(f"late/{A}/*.ipynb"))
    after = {s: r.auto_score for s, r in harness.results(root, A).items()}
    assert {s: after[s] for s in before} == before
    # nbgrader enters a submission in the gradebook before it runs its preprocessors: one it was refused
    # (late, and the two the course's grader could not grade) may appear there, without a point
    assert all(not after[s] for s in set(after) - set(before)), after
    proc = subprocess.run([sys.executable, "-m", "course.grading", A, "--root", str(root), "--student", "late",
                           "--timeout", str(CELL_TIMEOUT)], capture_output=True, text=True, timeout=900,
                          env=os.environ | {"PATH": f"{harness.BIN}{os.pathsep}{os.environ['PATH']}"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert harness.autograded_notebook(root, "late", A, NB) is not None


def test_grading_refuses_to_run_unisolated_without_the_flag(tmp_path):
    env = os.environ | {"PATH": str(harness.BIN)}  # no bwrap on this PATH
    proc = subprocess.run([sys.executable, "-m", "course.grading", A, "--root", str(harness.REPO)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert "bubblewrap" in proc.stderr and "--allow-unisolated" in proc.stderr, proc.stderr
