"""Benchmark (not a test): seconds per submission with ``course.grading``, sequential against parallel.

    .venv/bin/python bench/grading_bench.py [--submissions 8] [--jobs 2] [--assignment 01_generative_ai]

Builds a throw-away course, hands in the same answered notebook for every student, grades it all
once with ``--jobs 1`` and once (in a fresh copy) with ``--jobs N``, and writes the figures to
.scratch/grading-bench.json (and prints a table; `make bench` puts the same figures in docs/benchmarks.md). Wall time includes the fixed cost of a run
(registering the assignment, checking the sandbox, recording grades in the gradebook); the
"execute" phase is the part that runs in parallel. The machine's load average is recorded too:
on a shared machine other work competes for the same cores.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

sys.path.insert(0, str(REPO / "tests"))
import courses  # noqa: E402  (the throw-away courses the tests use)


def _phase(phases: str, name: str) -> float:
    """Seconds of one phase in the grader's "Phases: prepare 1.0 s, execute 9.9 s (...), record 2.0 s" line."""
    return float(phases.split(f"{name} ")[1].split(" s")[0]) if f"{name} " in phases else float("nan")


def run(assignment: str, n: int, jobs: int, workdir: Path, reference: Path | None = None) -> dict:
    """Grade ``n`` answered submissions ``jobs`` at a time in a new course under ``workdir``.

    ``reference``: a folder for the recorded reference (the instructor's notebooks, executed once per version
    of them). When it holds one, the run starts from it, as every grading after an assignment's first does;
    when it is empty, this run records the reference and leaves a copy there.
    """
    root = courses.make_course(workdir / f"jobs{jobs}", [assignment])
    cache = root / ".scratch" / "grading-reference"
    if reference is not None and any(reference.glob("*.json")):
        shutil.copytree(reference, cache, dirs_exist_ok=True)
    for i in range(n):
        files = {f"{nb}.ipynb": courses.answered(courses.released_notebook(root, assignment, nb), courses.source_notebook(assignment, nb)) for nb in courses.notebooks(assignment)}
        courses.submit(root, f"student{i:03d}", assignment, files)
    env = os.environ | {"PATH": f"{courses.BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "course.grading", assignment, "--root", str(root),
                           "--jobs", str(jobs)], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"grading failed:\n{proc.stdout}\n{proc.stderr}")
    if reference is not None and not any(reference.glob("*.json")):
        shutil.copytree(cache, reference, dirs_exist_ok=True)
    with open(root / "reports" / assignment / "integrity.csv") as fh:
        rows = list(csv.DictReader(fh))
    graded = [r for r in rows if r["status"] == "graded"]
    isolation = next((ln.split("Isolation: ", 1)[1] for ln in proc.stdout.splitlines() if "Isolation: " in ln), "")
    phases = next((ln.split("Phases: ", 1)[1] for ln in proc.stdout.splitlines() if ln.startswith("Phases: ")), "")
    parts = {name: _phase(phases, name) for name in ("prepare", "execute", "record")}
    execute = parts["execute"]
    return {"jobs": jobs, "submissions": n, "graded": len(graded), "wall_seconds": round(wall, 1),
            "seconds_per_submission": round(wall / n, 2), "phases": phases, "phase_seconds": parts,
            "execute_seconds_per_submission": round(execute / n, 2),
            "mean_worker_seconds": round(sum(float(r["seconds"]) for r in graded) / max(1, len(graded)), 2),
            "isolation": isolation}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--submissions", type=int, default=8)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--assignment", default="01_generative_ai")
    p.add_argument("--out", type=Path, default=REPO / ".scratch" / "grading-bench.json")
    p.add_argument("--warm", action="store_true",
                   help="record the reference once before timing (every grading after an assignment's first)")
    a = p.parse_args()
    load_start = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="grading-bench-") as tmp:
        reference = Path(tmp) / "reference"
        reference.mkdir()
        if a.warm:  # record the reference first, untimed, as an assignment's first grading does once
            first = run(a.assignment, 1, a.jobs, Path(tmp) / "first", reference)
            print(f"first grading of {a.assignment} (records the reference): {first['wall_seconds']} s for 1 submission")
        results = [run(a.assignment, a.submissions, jobs, Path(tmp) / f"run{jobs}", reference if a.warm else None)
                   for jobs in (1, a.jobs)]
    seq, par = results
    report = {
        "date": dt.date.today().isoformat(), "assignment": a.assignment, "cpus": os.cpu_count(),
        "machine": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
        "load_average_at_start": load_start, "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "reference_recorded_before_timing": a.warm, "runs": results, "speedup": round(seq["wall_seconds"] / par["wall_seconds"], 2),
    }
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{'jobs':>4} {'submissions':>11} {'wall s':>8} {'s/submission':>12} {'execute s/subm.':>15} "
          f"{'worker s (mean)':>15}")
    for r in results:
        print(f"{r['jobs']:>4} {r['submissions']:>11} {r['wall_seconds']:>8} {r['seconds_per_submission']:>12} "
              f"{r['execute_seconds_per_submission']:>15} {r['mean_worker_seconds']:>15}   {r['phases']}")
    print(f"speedup x{report['speedup']} on {report['cpus']} CPUs; isolation: {seq['isolation']}\nwritten to {a.out}")


if __name__ == "__main__":
    main()
