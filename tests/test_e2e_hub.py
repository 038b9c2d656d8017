"""A real class on JupyterHub, end to end: deploy/jupyterhub/jupyterhub_config.py with real Unix
accounts (one instructor, three students), configurable-http-proxy, and nbgrader's exchange.

Everything goes over HTTP through the hub, as the browser would send it: the hub's REST API
(accounts, servers, tokens), each person's own Jupyter server (contents API, nbgrader's
assignment-list API for fetch/submit/fetch feedback, the formgrader's API for the instructor),
each request with that person's own token, so every nbgrader step runs as that person's Unix
account. The instructor exports the grades with ``nbgrader export`` in a terminal.

Needs root, configurable-http-proxy and the accounts tools (``.ci/install-e2e``); skipped
locally when they are missing, failed in CI (CI=true).
"""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import nbformat
import pytest

import e2e_util as e2e
import harness

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

A, NB = "00_orientation", "00_orientation"
NB_PATH = f"{A}/{NB}.ipynb"
MANUAL_TEXT = ("Partly right. ChatGPT is an LLM used generatively, so it is generative AI. BERT is an LLM "
               "(a masked language model) but is mostly used to understand and classify text, not to "
               "generate it. DALL-E generates images from text: it is generative AI and a foundation "
               "model, but not a language model. Being an LLM is not what makes a system generative.")
# correct: every answer of NB (12 autograded points, 2 given by the instructor for the text);
# half: the 6-point question only; empty: nothing. Out of 14 in NB; the assignment's other notebooks
# are handed in unanswered (the whole assignment's maximum is in the export).
EXPECTED = {"correct": 14.0, "half": 6.0, "empty": 0.0}
NB_MAX_SCORE = 14.0
MAX_SCORE = sum(float(c.metadata["nbgrader"].get("points", 0)) for name in harness.notebooks(A)
                for c in harness.source_notebook(A, name).cells if c.metadata.get("nbgrader", {}).get("grade"))


def _answered(released: dict, kind: str) -> dict:
    """The released notebook with a student's answers, cells found by grade_id."""
    nb = copy.deepcopy(released)
    solution = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source
                for c in harness.source_notebook(A, NB).cells}
    answers = {"correct": ["map_systems", "judge_claims", "generative_definition"],
               "half": ["map_systems"], "empty": []}[kind]
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell["source"] = solution[gid]
        elif gid == "colleague_claim_text" and kind == "correct":
            cell["source"] = MANUAL_TEXT
    return nb


@pytest.fixture(scope="module")
def classroom():
    e2e.require_hub()
    out = e2e.output_dir("test_e2e_hub")
    klass = e2e.Classroom(n_students=3)
    hub = e2e.Hub(klass, out)
    try:
        klass.create()
        hub.start()
        yield klass, hub
    finally:
        hub.stop()
        klass.close()


@pytest.fixture(scope="module")
def semester(classroom):
    """The whole loop, once; the tests below check what it left behind."""
    klass, hub = classroom
    ins = klass.instructor
    roles = dict(zip(("correct", "half", "empty"), klass.students))
    timings: dict[str, float] = {}
    t0 = time.monotonic()

    def lap(step: str) -> None:
        timings[step] = round(time.monotonic() - t0 - sum(timings.values()), 1)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(hub.spawn, klass.users))
    lap("spawn 4 servers")

    # instructor: generate the student version from source/ and release it to the exchange
    for step in ("assign", "release"):
        out = hub.user_ok(ins, "POST", f"/formgrader/api/assignment/{A}/{step}")
        assert out["success"], out["log"]
    lap("generate and release")

    course = {"course_id": e2e.COURSE_ID, "assignment_id": A}
    for kind, student in roles.items():
        listing = hub.user_ok(student, "GET", f"/assignments?course_id={e2e.COURSE_ID}")
        assert any(a["assignment_id"] == A and a["status"] == "released" for a in listing["value"]), listing
        out = hub.user_ok(student, "POST", "/assignments/fetch", data=course)
        assert out["success"], out
        model = hub.user_ok(student, "GET", f"/api/contents/{NB_PATH}?content=1&type=notebook")
        hub.user_ok(student, "PUT", f"/api/contents/{NB_PATH}",
                    body={"type": "notebook", "format": "json", "content": _answered(model["content"], kind)})
        out = hub.user_ok(student, "POST", "/assignments/submit", data=course)
        assert out["success"], out
    lap("3 students fetch, answer, submit")

    out = hub.user_ok(ins, "POST", f"/formgrader/api/assignment/{A}/collect")
    assert out["success"], out["log"]
    # The formgrader's Autograde button refuses (plain nbgrader would run student code with the
    # instructor's rights) and says what to run instead; the instructor runs it in a terminal.
    refused = hub.user_ok(ins, "POST", f"/formgrader/api/submission/{A}/{roles['correct']}/autograde")
    assert not refused["success"] and f"make autograde ASSIGNMENT={A}" in refused["log"], refused
    graded = e2e.run("runuser", "-u", ins, "--", "env", f"PATH={klass.bin}:/usr/bin:/bin", f"HOME={klass.home(ins)}",
                     str(klass.bin / "python"), "-m", "course.grading", A, "--jobs", "2",
                     cwd=klass.course_dir, check=False, timeout=900)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert "Isolation: bubblewrap sandbox" in graded.stdout, graded.stdout
    lap("collect and autograde")

    # the free-text answer, graded by hand in the formgrader
    for sub in hub.user_ok(ins, "GET", f"/formgrader/api/submitted_notebooks/{A}/{NB}"):
        grades = hub.user_ok(ins, "GET", f"/formgrader/api/grades?submission_id={sub['id']}")
        text = [g for g in grades if g["name"] == "colleague_claim_text"]
        assert len(text) == 1, grades
        score = 2.0 if sub["student"] == roles["correct"] else 0.0
        hub.user_ok(ins, "PUT", f"/formgrader/api/grade/{text[0]['id']}", body={"manual_score": score})
    lap("manual grading")

    # what the class understood: the item analysis (make report), as the instructor runs it after grading
    report = e2e.run("runuser", "-u", ins, "--", "env", f"PATH={klass.bin}:/usr/bin:/bin", f"HOME={klass.home(ins)}",
                     str(klass.bin / "python"), "-m", "course.grading.analysis", A,
                     cwd=klass.course_dir, check=False, timeout=300)
    assert report.returncode == 0, report.stdout + report.stderr
    analysis_page = (klass.course_dir / "reports" / A / "analysis.html").read_text()
    lap("item analysis")

    for step in ("generate_feedback", "release_feedback"):
        out = hub.user_ok(ins, "POST", f"/formgrader/api/assignment/{A}/{step}")
        assert out["success"], out["log"]
    feedback: dict[str, str] = {}
    for kind, student in roles.items():
        out = hub.user_ok(student, "POST", "/assignments/fetch_feedback", data=course)
        assert out["success"], out
        found = [Path(p) for p in _walk(hub, student, f"{A}/feedback") if p.endswith(".html")]
        assert len(found) == len(harness.notebooks(A)), f"{student} fetched {found}"
        found = [p for p in found if p.name == f"{NB}.html"]
        feedback[kind] = hub.user_ok(student, "GET", f"/api/contents/{quote(str(found[0]))}?content=1&type=file&format=text")["content"]
    lap("feedback generated, released, fetched")

    export = klass.base / "grades.csv"
    proc = e2e.run("runuser", "-u", ins, "--", "env", f"PATH={klass.bin}:/usr/bin:/bin",
                   "nbgrader", "export", "--to", str(klass.home(ins) / "grades.csv"), cwd=klass.course_dir)
    export.write_text((klass.home(ins) / "grades.csv").read_text())
    grades = {row["student_id"]: row for row in csv.DictReader(io.StringIO(export.read_text()))}
    lap("export")
    # keep what an instructor would look at, for a person reading the test's output
    keep = e2e.output_dir("test_e2e_hub") / "course"
    shutil.rmtree(keep, ignore_errors=True)
    for folder in ("autograded", "feedback"):
        shutil.copytree(klass.course_dir / folder, keep / folder)
    shutil.copy(export, keep / "grades.csv")
    (keep / "analysis.html").write_text(analysis_page)
    timings["total"] = round(time.monotonic() - t0, 1)
    (e2e.output_dir("test_e2e_hub") / "timings.json").write_text(json.dumps(timings, indent=2))
    return {"klass": klass, "hub": hub, "roles": roles, "feedback": feedback, "grades": grades,
            "export_log": proc.stdout + proc.stderr, "timings": timings, "analysis": analysis_page}


def _walk(hub, user: str, path: str) -> list[str]:
    model = hub.user_ok(user, "GET", f"/api/contents/{quote(path)}")
    files = []
    for item in model["content"]:
        files += _walk(hub, user, item["path"]) if item["type"] == "directory" else [item["path"]]
    return files


def test_exported_grades_match_the_answers(semester):
    grades, roles = semester["grades"], semester["roles"]
    for kind, student in roles.items():
        assert student in grades, f"{student} missing from the export:\n{semester['export_log']}"
        row = grades[student]
        assert row["assignment"] == A
        assert float(row["score"]) == pytest.approx(EXPECTED[kind]), (kind, row)
        assert float(row["max_score"]) == pytest.approx(MAX_SCORE), (kind, row)


def test_the_item_analysis_names_the_items(semester):
    page = semester["analysis"]
    for cell in ("map_systems_tests", "judge_claims_tests", "generative_definition_tests"):
        assert cell in page, f"{cell} is not on the item analysis page"
    assert "answers[" in page and "Cronbach" in page and "<script" not in page
    assert re.search(r"<td>graded</td><td class=\"num\">3</td>", page), "the three graded submissions"


def test_formgrader_agrees_with_the_export(semester):
    hub, klass, roles = semester["hub"], semester["klass"], semester["roles"]
    subs = {s["student"]: s for s in hub.user_ok(klass.instructor, "GET", f"/formgrader/api/submissions/{A}")}
    for kind, student in roles.items():
        assert subs[student]["score"] == pytest.approx(EXPECTED[kind]), subs[student]
        assert not subs[student]["needs_manual_grade"], subs[student]


def test_each_student_fetched_their_own_feedback(semester):
    for kind, html in semester["feedback"].items():
        scores = re.findall(r"Score:\s*([\d.]+)\s*/\s*([\d.]+)", html)
        assert scores, f"no score in the feedback of {kind}"
        assert float(scores[0][0]) == pytest.approx(EXPECTED[kind]) and float(scores[0][1]) == NB_MAX_SCORE, (kind, scores[0])
    assert MANUAL_TEXT[:40] in semester["feedback"]["correct"]
    assert MANUAL_TEXT[:40] not in semester["feedback"]["half"] + semester["feedback"]["empty"]


def test_feedback_does_not_show_hidden_tests(semester):
    """Neither in the test cells nor quoted in the traceback of a failed one."""
    for kind, html in semester["feedback"].items():
        assert "BEGIN HIDDEN TESTS" not in html, kind


def test_students_cannot_read_each_others_work(semester):
    """nbgrader issues #978 and #1202: the exchange must not let a student find or read another's
    submission or feedback; nor may the hub or the home folders."""
    klass, hub, roles = semester["klass"], semester["hub"], semester["roles"]
    course = klass.exchange / e2e.COURSE_ID
    inbound = sorted(p.name for p in (course / "inbound").iterdir())
    assert len(inbound) == 3, inbound
    released_feedback = sorted((course / "feedback").iterdir())
    # one feedback file per student and notebook of the assignment
    assert len(released_feedback) == 3 * len(harness.notebooks(A)), released_feedback
    for victim in roles.values():
        submission = next(n for n in inbound if n.startswith(victim + "+"))
        # the folder name ends in a random string, so it cannot be guessed (#978)
        assert re.fullmatch(re.escape(f"{victim}+{A}+") + r".+\+[A-Za-z0-9_-]{12}", submission), submission
        fetched = klass.home(victim) / A / "feedback"
        feedback_file = next(fetched.rglob(f"{NB}.html"))
        for thief in (s for s in roles.values() if s != victim):
            # over HTTP, through the hub: another person's server refuses the student's token
            status, _ = hub.user_api(victim, "GET", f"/api/contents/{NB_PATH}", as_user=thief)
            assert status in (403, 404), f"{thief} read {victim}'s notebook over the hub: HTTP {status}"
            # on the file system, as the thief's Unix account
            for cmd in (["ls", str(course / "inbound")],             # cannot list submissions
                        ["ls", str(course / "feedback")],            # cannot list released feedback
                        ["ls", str(klass.home(victim))],             # nor another home folder
                        ["cat", str(klass.home(victim) / NB_PATH)],
                        ["cat", str(feedback_file)],
                        ["mv", str(course / "inbound" / submission), str(course / "inbound" / f"{thief}-moved")]):
                proc = klass.as_user(thief, *cmd)
                assert proc.returncode != 0, f"{thief} could run {' '.join(cmd)}:\n{proc.stdout[:500]}"
    # the students' fetched feedback is theirs: one file per notebook, with their own score (see above)
    for student in roles.values():
        assert len(list((klass.home(student) / A / "feedback").rglob("*.html"))) == len(harness.notebooks(A))


def test_formgrader_is_for_the_instructor_only(semester):
    klass, hub, roles = semester["klass"], semester["hub"], semester["roles"]
    status, out = hub.user_api(klass.instructor, "GET", "/formgrader/api/status")
    assert status == 200 and out == {"status": True}
    student = roles["half"]
    status, _ = hub.user_api(student, "GET", "/formgrader/api/status")
    assert status == 404, "a student's own server must not offer the formgrader"
    status, _ = hub.user_api(klass.instructor, "GET", "/formgrader/api/status", as_user=student)
    assert status in (403, 404), f"a student reached the instructor's formgrader: HTTP {status}"
    status, _ = hub.user_api(klass.instructor, "GET", f"/formgrader/api/submissions/{A}", as_user=student)
    assert status in (403, 404), f"a student read the gradebook: HTTP {status}"


def test_exchange_permissions_are_as_documented(semester):
    course = semester["klass"].exchange / e2e.COURSE_ID
    modes = {p: oct(p.stat().st_mode & 0o7777) for p in (course.parent, course, course / "outbound",
                                                         course / "inbound", course / "feedback")}
    assert modes == {course.parent: "0o1777", course: "0o755", course / "outbound": "0o755",
                     course / "inbound": "0o3733", course / "feedback": "0o711"}, modes
    for sub in (course / "inbound").iterdir():
        assert sub.stat().st_uid != course.stat().st_uid  # owned by the student who submitted


def test_home_folders_are_private(semester):
    klass = semester["klass"]
    for user in klass.users:
        assert klass.home(user).stat().st_mode & 0o077 == 0, f"{user}'s home folder is open to others"
    assert "now 700" in klass.setup_log  # setup-class.sh closed the ones useradd left open


def _secret_lines() -> list[str]:
    """Lines of the solutions, hidden tests and mark schemes of every instructor notebook that no
    released notebook holds: what a student must not find anywhere on the server."""
    released = "\n".join(c.source for path in (harness.REPO / "release").rglob("*.ipynb")
                         for c in nbformat.read(path, 4).cells)
    block = re.compile(r"(?:### BEGIN (SOLUTION|HIDDEN TESTS)|=== BEGIN MARK SCHEME ===)\n(.*?)"
                       r"(?:### END (?:SOLUTION|HIDDEN TESTS)|=== END MARK SCHEME ===)", re.S)
    found: set[str] = set()
    for path in (harness.REPO / "source").rglob("*.ipynb"):
        for cell in nbformat.read(path, 4).cells:
            meta = cell.metadata.get("nbgrader", {})
            texts = [m.group(2) for m in block.finditer(cell.source)]
            if cell.cell_type == "markdown" and meta.get("solution"):  # a model answer to a free-text question
                texts.append(cell.source)
            for line in (ln.strip() for t in texts for ln in t.splitlines()):
                if len(line) >= 24 and line not in released and "BEGIN" not in line and "END " not in line:
                    found.add(line)
    return sorted(found)


def _made_or_changed_by_the_deployment(path: Path, klass) -> bool:
    """True for a file in the class's folders, or one whose inode changed after the class's setup began
    (st_ctime: set on creation, on every write and on every change of permissions, and no copy preserves it)."""
    if path.is_relative_to(klass.base):
        return True
    try:
        return path.lstat().st_ctime >= klass.started - 2  # 2 s for coarse file-system clocks
    except OSError:  # gone since the search: a temporary file of the semester
        return True


def test_no_solution_is_readable_by_a_student_anywhere_on_the_server(semester):
    """As an attacker would: a student's account searches every file it can read on the machine
    for lines of the solutions and hidden tests (after a whole semester ran)."""
    klass, roles = semester["klass"], semester["roles"]
    secrets = _secret_lines()
    assert len(secrets) > 50, "too few solution lines to search for: the extraction is broken"
    roots = sorted(str(p) for p in Path("/").iterdir()
                   if p.name not in {"proc", "sys", "dev", "run"} and p.is_dir() and not p.is_symlink())
    student = roles["empty"]  # whose own files hold no answer
    proc = e2e.run("runuser", "-u", student, "--", "grep", "-rlsF", "-f", "-", *roots,
                   input="\n".join(secrets) + "\n", check=False, timeout=1200)
    # grep exits 2 when it met files it may not read (the point of the exercise); -s keeps that quiet
    assert proc.returncode in (0, 1, 2), proc.stderr[-2000:]
    found = proc.stdout.splitlines()
    # What the deployment made or changed is judged; files that were on the machine, untouched, before the
    # class was set up (another clone of this repository, a CI service's own records) are the machine's.
    leaked = [p for p in found if _made_or_changed_by_the_deployment(Path(p), klass)]
    assert not leaked, f"{student} can read solutions in: {leaked[:20]}"
    # and the search did reach what students are meant to read (it is not blind)
    probe = e2e.run("runuser", "-u", student, "--", "grep", "-rlsF", "course map", "-i", str(klass.exchange),
                    str(klass.home(student)), check=False)
    assert probe.stdout.strip(), "the search found not even the released notebook"
