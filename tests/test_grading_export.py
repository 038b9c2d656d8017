"""Grades for the learning platform (``make grades FORMAT=...``, ``nbgrader export --exporter=...``): each
format against a golden file, re-parsed after writing; a student without the identity the platform needs
stops the export with an error naming them."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

import grading_class as gc
import harness

GOLDEN = Path(__file__).parent / "golden"
EXPORTERS = {"canvas": "CanvasExport", "moodle": "MoodleExport", "csv": "QuestionsExport"}
PEOPLE = {
    "alice": {"first_name": "Alice", "last_name": "Ng", "email": "alice@example.org", "lms_user_id": "1001"},
    "bob": {"first_name": "Bob", "last_name": "Okafor", "email": "bob@example.org", "lms_user_id": "1002"},
    "carol": {"first_name": "Carol", "last_name": "Díaz, Jr.", "email": "carol@example.org", "lms_user_id": "1003"},
}


def _course(root: Path, people: dict) -> Path:
    """Two assignments: a1 (n1: q1 2 points, q2 3, essay 2 by hand) and a2 (n2: q1 4 points).

    alice: everything right. bob: a1 late (1 point off), a2 not handed in. carol: essay not graded yet.
    """
    cells = {"a1": {"n1": {"q1": (2.0, "code"), "q2": (3.0, "code"), "essay": (2.0, "markdown")}},
             "a2": {"n2": {"q1": (4.0, "code")}}}
    grades = {
        "a1": {("alice", "n1", "q1"): 2.0, ("alice", "n1", "q2"): 3.0, ("alice", "n1", "essay"): 2.0,
               ("bob", "n1", "q1"): 2.0, ("bob", "n1", "q2"): 1.5, ("bob", "n1", "essay"): 1.0,
               ("carol", "n1", "q1"): 0.0, ("carol", "n1", "q2"): 3.0, ("carol", "n1", "essay"): None},
        "a2": {("alice", "n2", "q1"): 4.0, ("carol", "n2", "q1"): 2.0},
    }
    for a in ("a1", "a2"):
        gc.make_gradebook(root, a, cells[a], people, grades[a])
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        gb.find_submission_notebook("n1", "a1", "bob").late_submission_penalty = 1.0
        gb.db.commit()
    return root / "gradebook.db"


def _export(root: Path, fmt: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(harness.BIN / "nbgrader"), "export", f"--exporter=course.grading.lmsexport.{EXPORTERS[fmt]}",
                           f"--db=sqlite:///{root / 'gradebook.db'}", f"--to={root / f'grades-{fmt}.csv'}", *args],
                          cwd=root, capture_output=True, text=True, timeout=120)


def _in_process(root: Path, fmt: str, **options) -> None:
    """What ``nbgrader export --exporter=...`` does, without starting nbgrader (the slow tests below do)."""
    from nbgrader.api import Gradebook

    from course.grading import lmsexport

    plugin = getattr(lmsexport, EXPORTERS[fmt])(to=str(root / f"grades-{fmt}.csv"), **options)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        plugin.export(gb)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    _course(root, PEOPLE)
    for fmt in EXPORTERS:
        _in_process(root, fmt)
    return root


@pytest.mark.parametrize("fmt", list(EXPORTERS))
def test_each_format_matches_its_golden_file(exported, fmt):
    assert (exported / f"grades-{fmt}.csv").read_text() == (GOLDEN / f"grades-{fmt}.csv").read_text()


@pytest.mark.slow
def test_nbgrader_export_writes_the_same_files(tmp_path):
    _course(tmp_path, PEOPLE)
    for fmt in EXPORTERS:
        proc = _export(tmp_path, fmt)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert (tmp_path / f"grades-{fmt}.csv").read_text() == (GOLDEN / f"grades-{fmt}.csv").read_text()
        assert "Manual grading still to do, so these totals are not final: carol (a1)" in proc.stderr


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_canvas_file_parses_back_to_the_gradebook(exported):
    root = exported
    rows = _rows(root / "grades-canvas.csv")
    assert list(rows[0]) == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "a1", "a2"]
    assert rows[0]["Student"] == "Points Possible" and (rows[0]["a1"], rows[0]["a2"]) == ("7", "4")
    by_id = {r["ID"]: r for r in rows[1:]}
    assert by_id["1001"]["Student"] == "Ng, Alice" and by_id["1003"]["Student"] == "Díaz, Jr., Carol"
    assert (by_id["1001"]["a1"], by_id["1001"]["a2"]) == ("7", "4")
    assert (by_id["1002"]["a1"], by_id["1002"]["a2"]) == ("3.5", "0"), "late penalty off; no submission is 0"
    assert (by_id["1003"]["a1"], by_id["1003"]["a2"]) == ("3", "2")


def test_moodle_file_has_a_column_per_question_and_matches_on_email(exported):
    root = exported
    rows = _rows(root / "grades-moodle.csv")
    assert list(rows[0]) == ["Email address", "First name", "Last name", "a1", "a1: n1: essay", "a1: n1: q1",
                             "a1: n1: q2", "a2", "a2: n2: q1"]
    bob = next(r for r in rows if r["Email address"] == "bob@example.org")
    assert (bob["a1"], bob["a1: n1: q1"], bob["a1: n1: q2"], bob["a1: n1: essay"], bob["a2"]) == ("3.5", "2", "1.5", "1", "0")


def test_question_csv_holds_every_identity_and_the_points_possible(exported):
    root = exported
    rows = _rows(root / "grades-csv.csv")
    assert rows[0]["student_id"] == "Points Possible" and rows[0]["a1: n1: q2"] == "3"
    carol = next(r for r in rows if r["student_id"] == "carol")
    assert (carol["email"], carol["lms_user_id"], carol["a1"], carol["a1: n1: essay"]) == ("carol@example.org", "1003",
                                                                                             "3", "0")


def test_a_student_without_the_platforms_identity_is_named(tmp_path, caplog):
    people = PEOPLE | {"dave": {"first_name": "Dave", "last_name": "Li"}}
    _course(tmp_path, people)
    for fmt, what in (("canvas", "LMS user id"), ("moodle", "email address")):
        caplog.clear()
        with pytest.raises(SystemExit):
            _in_process(tmp_path, fmt)
        assert f"1 student(s) have no {what}" in caplog.text and ": dave." in caplog.text, caplog.text
        assert not (tmp_path / f"grades-{fmt}.csv").exists()
    _in_process(tmp_path, "canvas", student=["alice", "bob"])
    assert [r["ID"] for r in _rows(tmp_path / "grades-canvas.csv")] == ["", "1001", "1002"]
    _in_process(tmp_path, "csv")  # the course's CSV needs no identity but the id
    caplog.clear()
    with pytest.raises(SystemExit):
        _in_process(tmp_path, "moodle", assignment=["a9"])
    assert "no assignment a9 in the gradebook (it has: a1, a2)" in caplog.text


@pytest.mark.slow
def test_the_command_line_error_is_one_clear_line(tmp_path):
    _course(tmp_path, PEOPLE | {"dave": {"first_name": "Dave", "last_name": "Li"}})
    proc = _export(tmp_path, "canvas")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "1 student(s) have no LMS user id" in out and ": dave." in out, out
    assert "Traceback" not in out and not (tmp_path / "grades-canvas.csv").exists()


@pytest.mark.slow
def test_make_grades_uses_the_plugins(tmp_path):
    _course(tmp_path, PEOPLE)
    out = tmp_path / "grades-moodle.csv"
    proc = subprocess.run(["make", "--no-print-directory", "grades", "FORMAT=moodle", "ASSIGNMENT=a2",
                           f"GRADES_FILE={out}", f"EXPORT_ARGS=--db=sqlite:///{tmp_path / 'gradebook.db'}"],
                          cwd=harness.REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert list(_rows(out)[0]) == ["Email address", "First name", "Last name", "a2", "a2: n2: q1"]
    proc = subprocess.run(["make", "--no-print-directory", "grades", "FORMAT=blackboard"], cwd=harness.REPO,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "usage: make grades [FORMAT=canvas|moodle|csv]" in proc.stdout
    plain = subprocess.run(["make", "-n", "--no-print-directory", "grades"], cwd=harness.REPO, capture_output=True,
                           text=True, timeout=60).stdout
    assert "nbgrader export" in plain and "--exporter" not in plain and "--to grades.csv" in plain


if __name__ == "__main__":  # regenerate the golden files (then read them before committing)
    import tempfile

    root = Path(tempfile.mkdtemp())
    _course(root, PEOPLE)
    GOLDEN.mkdir(exist_ok=True)
    for fmt in EXPORTERS:
        proc = _export(root, fmt)
        assert proc.returncode == 0, proc.stderr
        (GOLDEN / f"grades-{fmt}.csv").write_text((root / f"grades-{fmt}.csv").read_text())
    sys.exit(0)
