"""``python -m course.grading ASSIGNMENT``: the command line of the grader (``make autograde``).

    python -m course.grading ASSIGNMENT [--jobs N] [--timeout S] [--memory 3G] [--force] [--allow-unisolated]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import sys
import time
from pathlib import Path

from course.grading.integrity import write_report
from course.grading.runner import Grader, GradingError, Options
from course.grading.sandbox import Limits


def parse_size(text: str) -> int:
    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    text = text.strip().upper().removesuffix("B")
    try:
        return int(float(text[:-1]) * units[text[-1]]) if text[-1:] in units else int(text)
    except (ValueError, IndexError):
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (examples: 3G, 512M)") from None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m course.grading", description="Autograde every submission of an assignment, isolated.")
    p.add_argument("assignment")
    p.add_argument("--root", type=Path, default=Path("."), help="course folder (default: here)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="submissions graded at once")
    p.add_argument("--timeout", type=int, help="seconds per cell (default: the course's c.Execute.timeout)")
    p.add_argument("--submission-timeout", type=int, default=900, help="seconds per submission (default 900)")
    p.add_argument("--memory", type=parse_size, default=Limits.memory_bytes, help="kernel memory cap (default 3G)")
    p.add_argument("--force", action="store_true", help="regrade submissions that were graded before")
    p.add_argument("--student", action="append", default=[], help="grade only this student (repeatable)")
    p.add_argument("--allow-unisolated", action="store_true", help="grade even if the sandbox is unavailable")
    p.add_argument("--keep-scratch", action="store_true", help="keep each submission's scratch course")
    a = p.parse_args(argv)
    if a.jobs < 1 or a.submission_timeout < 1 or (a.timeout is not None and a.timeout < 1):
        p.error("--jobs, --timeout and --submission-timeout must be positive")
    opts = Options(a.assignment, a.root, a.jobs, a.timeout, a.submission_timeout, a.memory, a.force,
                   a.allow_unisolated, a.student, a.keep_scratch)
    try:
        grader = Grader(opts)
        grader.scratch.parent.mkdir(parents=True, exist_ok=True)
        with open(grader.scratch.parent / f"{opts.assignment}.lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise GradingError(f"{opts.assignment} is being graded by another run") from None
            t0 = time.monotonic()
            rows = grader.run()
            report = grader.root / "reports" / opts.assignment / "integrity.csv"
            print("\n" + write_report(rows, report))
            print(f"\nReport: {report} (and .txt). Isolation: {grader.isolation}. "
                  f"{time.monotonic() - t0:.0f} s in all.")
            if any(r.status == "NOT GRADED" for r in rows):
                print("Submissions NOT GRADED are not in the gradebook: fix what the details say, then run "
                      "again (graded ones are kept).")
    except GradingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
