"""``make check``: a self-paced learner grades their own notebooks with the course's real grader.

    python -m course.grading.selfcheck [ASSIGNMENT ...] [--work work]

Each assignment's notebooks in ``work/<assignment>/`` are handed in to a private course kept in
``.scratch/selfcheck/`` and graded exactly as an instructor would grade them (the hidden tests
included, scored outside the notebook's kernel). It prints the points of every question and writes
nbgrader's feedback page next to the notebooks (``work/feedback/<assignment>/``). It never shows a
right answer: a question's points say how much of it is right, not which parts.

In a class, ``source/`` (which this uses) is for the instructor only; students there get feedback
from their instructor's grading instead.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from course.grading.runner import Grader, GradingError, Options

STUDENT = "you"


def _course(repo: Path, private: Path, assignment: str) -> None:
    (private / "source").mkdir(parents=True, exist_ok=True)
    shutil.copy(repo / "nbgrader_config.py", private / "nbgrader_config.py")
    target = private / "source" / assignment
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(repo / "source" / assignment, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))


def _points(private: Path, assignment: str) -> list[tuple[str, str, float | None, float, bool]]:
    """(notebook, question, score, max, graded by hand) for every graded cell."""
    from nbgrader.api import Gradebook

    rows = []
    with Gradebook(f"sqlite:///{private / 'gradebook.db'}") as gb:
        sub = gb.find_submission(assignment, STUDENT)
        for nb in sub.notebooks:
            solution_names = {c.name for c in nb.notebook.solution_cells}
            for g in sorted(nb.grades, key=lambda g: g.name):
                manual = g.name in solution_names and g.cell_type == "markdown"
                rows.append((nb.name, g.name.removesuffix("_tests"), g.score, g.max_score, manual))
    return rows


def check(repo: Path, work: Path, assignment: str) -> int:
    notebooks = sorted((work / assignment).glob("*.ipynb"))
    if not notebooks:
        print(f"{assignment}: no notebooks in {work / assignment} (run `make lab` first)")
        return 1
    private = repo / ".scratch" / "selfcheck"
    _course(repo, private, assignment)
    submitted = private / "submitted" / STUDENT / assignment
    if submitted.exists():
        shutil.rmtree(submitted)
    submitted.mkdir(parents=True)
    for nb in notebooks:
        shutil.copy(nb, submitted / nb.name)
    grader = Grader(Options(assignment, root=private, jobs=1, force=True, allow_unisolated=shutil.which("bwrap") is None))
    print(f"Grading your {assignment} notebooks as your instructor would (this runs them; it takes a minute) ...",
          flush=True)
    rows = grader.run()
    row = next(r for r in rows if r.student == STUDENT)
    if row.status != "graded":
        print(f"{assignment}: could not be graded: {'; '.join(row.details)}")
        return 1
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_feedback", assignment, "--force",
                    "--log-level=ERROR"], cwd=private, check=False)
    out = work / "feedback" / assignment
    out.mkdir(parents=True, exist_ok=True)
    for page in (private / "feedback" / STUDENT / assignment).glob("*.html"):
        shutil.copy(page, out / page.name)
    print(f"\n{assignment}: {row.score:g} of {row.max_score:g} autograded points")
    for notebook, question, score, max_score, manual in _points(private, assignment):
        shown = "graded by your instructor" if manual else f"{score or 0:g} / {max_score:g}"
        print(f"  {notebook:<40} {question:<32} {shown}")
    print(f"Feedback pages: {out}/")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m course.grading.selfcheck", description=__doc__.split("\n\n")[0])
    p.add_argument("assignments", nargs="*", help="assignment ids (default: every one you have in work/)")
    p.add_argument("--work", type=Path, default=Path("work"), help="your notebooks (default: work)")
    p.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[2], help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    repo = a.repo.resolve()
    available = sorted(d.name for d in (repo / "source").iterdir() if d.is_dir() and any(d.glob("*.ipynb")))
    wanted = a.assignments or [x for x in available if (a.work / x).is_dir()]
    unknown = sorted(set(wanted) - set(available))
    if unknown:
        print(f"error: no assignment {', '.join(unknown)} (known: {', '.join(available)})", file=sys.stderr)
        return 2
    if not wanted:
        print(f"error: no notebooks in {a.work}/ yet: run `make lab` first", file=sys.stderr)
        return 2
    status = 0
    for assignment in wanted:
        try:
            status |= check(repo, a.work.resolve(), assignment)
        except GradingError as exc:
            print(f"{assignment}: {exc}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    raise SystemExit(main())
