"""``make check``: a self-paced learner grades their own notebooks with the course's real grader.

    python -m course.grading.selfcheck [ASSIGNMENT ...] [--notebook NAME_OR_PATH] [--work work]

With ``--notebook`` (``make check NOTEBOOK=03c``) only that notebook is handed in and graded: the
private course kept in ``.scratch/selfcheck/`` then holds that one notebook as its assignment, so
the others of its module are neither run nor counted. Without it, each assignment's notebooks in
``work/<assignment>/`` are graded together. Grading is exactly an instructor's (hidden tests
included, scored outside the notebook's kernel). The terminal and the feedback page
(``work/feedback/<assignment>/``) show per question the points and, below full marks, the names of
the checks that failed, never a right answer; a written free-text answer is shown beside its mark
scheme on the feedback page for self-assessment. Each check is kept for ``make progress``.

The first check of a notebook first runs the course's own solution once, to record what the
grader compares with; later checks reuse that record while the notebook is unchanged.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path

import nbformat

from course import progress
from course.grading import learner, selfpaced
from course.grading.runner import Grader, GradingError, Options

STUDENT = "you"
OVERHEAD_S = 20  # starting the grader, a kernel and the feedback page, on top of the notebook's own run time


class NotFound(ValueError):
    """The learner named a notebook or assignment the course does not have (the message lists them)."""


def catalogue(repo: Path) -> dict[str, list[str]]:
    """Assignment id -> notebook names (without .ipynb), from ``source/``."""
    return {d.name: sorted(p.stem for p in d.glob("*.ipynb")) for d in sorted((repo / "source").iterdir())
            if d.is_dir() and any(d.glob("*.ipynb"))}


def resolve(repo: Path, text: str) -> tuple[str, str, Path | None]:
    """(assignment, notebook, file) for ``NOTEBOOK=``: a path to a notebook, its name, or a unique prefix.

    ``file`` is the given path when it names an existing file (else None: the copy in ``work/``).
    """
    known = catalogue(repo)
    path = Path(text).expanduser()
    if path.suffix == ".ipynb" and path.is_file():
        assignment, name = path.resolve().parent.name, path.stem
        if name not in known.get(assignment, []):
            raise NotFound(f"{path} is not a notebook of the course (its folder must be a module: "
                           f"{', '.join(known)})")
        return assignment, name, path
    name = path.name.removesuffix(".ipynb")
    pairs = [(a, n) for a, names in known.items() for n in names]
    found = [p for p in pairs if p[1] == name] or [p for p in pairs if p[1].startswith(name)] if name else []
    if len(found) == 1:
        return found[0][0], found[0][1], None
    listing = ", ".join(n for _, n in (found if found else pairs))
    if found:
        raise NotFound(f"NOTEBOOK={text} matches several notebooks: {listing}; give more of the name")
    raise NotFound(f"no notebook {text!r} in the course; the notebooks are: {listing}")


def _fingerprint(files: list[Path]) -> str:
    import course.checks

    h = hashlib.sha256()
    for f in [*files, Path(course.checks.__file__)]:
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def _estimate(repo: Path, assignment: str, names: list[str]) -> int:
    """Seconds one run of these notebooks takes (measured by make bench), plus the grader's own start-up."""
    try:
        timings = json.loads((repo / "docs" / "benchmarks.json").read_text())["notebooks"]
    except (OSError, ValueError, KeyError):
        timings = {}
    seconds = sum(timings.get(f"{assignment}/{n}.ipynb", {}).get("median_seconds", 45) for n in names)
    return int(-(-(seconds + OVERHEAD_S) // 10) * 10)  # rounded up to 10 s


def _private_course(repo: Path, private: Path, assignment: str, names: list[str]) -> None:
    """The private course: the config and only the notebooks being checked, with no earlier results."""
    for old in ("gradebook.db", "submitted", "autograded", "feedback", "source", f"reports/{assignment}"):
        target = private / old
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    (private / "source" / assignment).mkdir(parents=True)
    shutil.copy(repo / "nbgrader_config.py", private / "nbgrader_config.py")
    for name in names:
        shutil.copy(repo / "source" / assignment / f"{name}.ipynb", private / "source" / assignment / f"{name}.ipynb")


def _questions(private: Path, assignment: str, names: list[str]) -> dict[str, list[learner.Question]]:
    """Per notebook, its questions in order with the points from the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    failed = learner.read_items(private / "reports" / assignment / "items.csv", STUDENT)
    out: dict[str, list[learner.Question]] = {}
    with Gradebook(f"sqlite:///{private / 'gradebook.db'}") as gb:
        for name in names:
            try:
                graded = gb.find_submission_notebook(name, assignment, STUDENT)
            except MissingEntry:
                continue
            manual = {c.name for c in graded.notebook.solution_cells}
            grades = {g.name: g for g in graded.grades}
            submitted = private / "submitted" / STUDENT / assignment / f"{name}.ipynb"
            answers = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source
                       for c in (nbformat.read(submitted, 4).cells if submitted.is_file() else [])}
            source = nbformat.read(private / "source" / assignment / f"{name}.ipynb", 4)
            order = [c.metadata.get("nbgrader", {}).get("grade_id") for c in source.cells]
            qs = []
            for gid in sorted(grades, key=lambda g: order.index(g) if g in order else len(order)):
                g, free = grades[gid], gid in manual
                qs.append(learner.Question(name, learner.question_name(gid), g.max_score,
                                           None if free else (g.score or 0.0), free_text=free,
                                           answered=not free or learner.is_answered(answers.get(gid, "")),
                                           failed=failed.get((name, gid), [])))
            out[name] = qs
    return out


def _feedback(private: Path, assignment: str, log: Path) -> None:
    """nbgrader's feedback pages for the learner, in this process (a new nbgrader process costs seconds)."""
    from nbgrader.apps import GenerateFeedbackApp

    items = private / "reports" / assignment / "items.csv"
    app = GenerateFeedbackApp()
    with open(log, "a") as out, contextlib.redirect_stdout(out), contextlib.redirect_stderr(out), \
            contextlib.chdir(private):
        try:
            app.initialize([assignment, "--force", "--log-level=ERROR",
                            *selfpaced.command_line("selfpaced", private / "source" / assignment, items)])
            app.start()
        except SystemExit:  # nbgrader says why in the log; the points are printed all the same
            pass


def check(repo: Path, work: Path, assignment: str, names: list[str], files: dict[str, Path]) -> int:
    """Grade ``names`` of ``assignment`` (the learner's ``files``, by name) and tell the learner the result."""
    private = repo / ".scratch" / "selfcheck"
    _private_course(repo, private, assignment, names)
    submitted = private / "submitted" / STUDENT / assignment
    submitted.mkdir(parents=True)
    for name, path in files.items():
        shutil.copy(path, submitted / f"{name}.ipynb")
    what = names[0] if len(names) == 1 else f"your {assignment} notebooks"
    marks = private / "recorded.json"
    recorded = json.loads(marks.read_text()) if marks.is_file() else {}
    key = f"{assignment}/{'+'.join(names)}"
    fingerprint = _fingerprint([repo / "source" / assignment / f"{n}.ipynb" for n in names])
    run_s = _estimate(repo, assignment, names)
    if recorded.get(key) != fingerprint:
        print(f"First check of {what}: before grading, the course's own solution runs once to record what the "
              f"checks compare with (about {run_s} s). This happens once; later checks skip it.", flush=True)
    print(f"Running {what} with the grader's hidden checks (about {run_s} s) ...", flush=True)
    log = private / "grader.log"
    t0 = time.monotonic()
    grader = Grader(Options(assignment, root=private, jobs=1, force=True, allow_unisolated=shutil.which("bwrap") is None))
    with open(log, "w") as out, contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        rows = grader.run()
    row = next(r for r in rows if r.student == STUDENT)
    if row.status != "graded":
        print(f"{what} could not be graded: {'; '.join(row.details) or 'see ' + str(log)}")
        return 1
    recorded[key] = fingerprint
    marks.write_text(json.dumps(recorded, indent=1))
    _feedback(private, assignment, log)
    out_dir = work / "feedback" / assignment
    out_dir.mkdir(parents=True, exist_ok=True)
    pages = []
    for name in names:
        page = private / "feedback" / STUDENT / assignment / f"{name}.html"
        if page.is_file():
            shutil.copy(page, out_dir / page.name)
            pages.append(out_dir / page.name)
    print(f"Checked in {time.monotonic() - t0:.0f} s.\n")
    for name, questions in _questions(private, assignment, names).items():
        print("\n".join(learner.lines(name, questions, "selfpaced")) + "\n")
        auto = [q for q in questions if not q.free_text]
        progress.record(work, assignment, name, progress.Check(
            score=sum(q.score or 0 for q in auto), auto=sum(q.points for q in auto),
            free=sum(q.points for q in questions if q.free_text), checked_at=progress.now(),
            left=learner.left(questions, "selfpaced")))
    if pages:
        print(f"Feedback {'page' if len(pages) == 1 else 'pages'}: " + ", ".join(str(p) for p in pages))
    print("Where you stand across the course: make progress")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m course.grading.selfcheck", description=__doc__.split("\n\n")[0])
    p.add_argument("assignments", nargs="*", help="assignment ids (default: every one you have in work/)")
    p.add_argument("--notebook", help="check only this notebook: its name (or the start of it) or its path")
    p.add_argument("--work", type=Path, default=Path("work"), help="your notebooks (default: work)")
    p.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[2], help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    repo, work = a.repo.resolve(), a.work.resolve()
    known = catalogue(repo)
    jobs: list[tuple[str, list[str], dict[str, Path]]] = []
    try:
        unknown = sorted(set(a.assignments) - set(known))
        if unknown:
            raise NotFound(f"no module {', '.join(unknown)} (the modules are: {', '.join(known)})")
        if a.notebook:
            assignment, name, path = resolve(repo, a.notebook)
            if a.assignments and a.assignments != [assignment]:
                raise NotFound(f"{name} belongs to {assignment}, not to {', '.join(a.assignments)}")
            path = path or work / assignment / f"{name}.ipynb"
            if not path.is_file():
                raise NotFound(f"no {path} yet: run `make lab` first (it copies the notebooks into {work}/)")
            jobs.append((assignment, [name], {name: path}))
        else:
            for assignment in a.assignments or [x for x in known if (work / x).is_dir()]:
                files = {n: work / assignment / f"{n}.ipynb" for n in known[assignment]
                         if (work / assignment / f"{n}.ipynb").is_file()}
                if not files:
                    raise NotFound(f"{assignment}: no notebooks in {work / assignment} (run `make lab` first)")
                jobs.append((assignment, known[assignment], files))
            if not jobs:
                raise NotFound(f"no notebooks in {work}/ yet: run `make lab` first")
    except NotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    (repo / ".scratch").mkdir(exist_ok=True)
    status = 0
    with open(repo / ".scratch" / "selfcheck.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print("error: another `make check` is running; wait for it to finish", file=sys.stderr)
            return 2
        for assignment, names, files in jobs:
            try:
                status |= check(repo, work, assignment, names, files)
            except GradingError as exc:
                print(f"{assignment}: {exc}", file=sys.stderr)
                status = 1
    return status


if __name__ == "__main__":
    raise SystemExit(main())
