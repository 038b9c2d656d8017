"""`make bench`: measure how fast the course runs and grades and how good its toy models are.

Writes docs/benchmarks.json (raw numbers) and docs/benchmarks.md (the report). Every number in the
report comes from this run: it also builds a learner's environment from nothing (`make venv` into a
scratch folder, as `make lab` does) to time the install and measure its size.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
import courses  # noqa: E402  (the throw-away courses the tests use)

# Widgets draw once instead of making controls (see course.widgets.static_widgets): nobody is
# there to move them, and headless executors can stall on them.
os.environ["COURSE_STATIC_WIDGETS"] = "1"
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
BUDGET_SECONDS = 60  # per notebook with solutions in place, two cores (CONTRIBUTING.md, "Notebook conventions")
JOBS = int(os.environ.get("BENCH_JOBS", "2"))
PACKAGES = ["torch", "nbgrader", "jupyterlab", "ipywidgets", "matplotlib", "numpy", "scikit-learn", "tqdm"]

#: metric name -> (comparison, threshold, what it is). Thresholds are the ones the tests assert;
#: "" marks a figure that is reported without one.
THRESHOLDS: dict[str, tuple[str, float, str]] = {
    "vae_bce_ratio": ("<=", 0.85, "VAE test reconstruction BCE / mean-image baseline's"),
    "gan_modes_covered": (">=", 7, "GAN modes covered, of 8 (>= 5% of 1,000 samples within 3 sd)"),
    "bigram_test_nll": ("<=", 2.5, "bigram model, test NLL (nats per character)"),
    "rnn_test_nll": ("<=", 2.05, "character RNN (GRU), test NLL (nats per character)"),
    "gpt_test_nll": ("<=", 2.2, "tiny causal transformer, test NLL (nats per character)"),
    "fm_gain_k5": (">=", 10, "best pretrained minus from scratch, k = 5 labels per language (accuracy points)"),
    "fm_gain_k20": (">=", 10, "best pretrained minus from scratch, k = 20 (accuracy points)"),
    "fm_gain_k100": ("", float("nan"), "best pretrained minus from scratch, k = 100 (accuracy points)"),
    "fm_pretrained_minus_ngram_k5": (">=", 5, "best pretrained minus the n-gram baseline, k = 5 (accuracy points)"),
    "fm_pretrained_minus_ngram_k20": (">=", 5, "best pretrained minus the n-gram baseline, k = 20 (accuracy points)"),
}
LABEL_MODES = (("probe", "pretrained + linear probe"), ("finetune", "pretrained + fine-tune"),
               ("scratch", "same network from scratch"), ("ngram", "character n-gram logistic regression"))


def execute(path: Path) -> tuple[float, dict[str, float]]:
    """Execute one notebook (with its solutions) in a scratch folder; return seconds and its metrics."""
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(path.parent, tmp, dirs_exist_ok=True)
        client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": tmp}})
        start = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - start
    errs = courses.errors(nb)
    if errs:
        raise RuntimeError(f"{path.relative_to(REPO)} raised: {errs}")
    return seconds, courses.metrics(nb)


def notebook_figures(pattern: str = "*/*.ipynb") -> dict[str, dict]:
    paths = sorted((REPO / "source").glob(pattern))
    if not paths:
        raise SystemExit(f"no source notebook matches {pattern!r}")
    jobs = [(p, r) for r in range(RUNS) for p in paths]
    out: dict[str, dict] = {str(p.relative_to(REPO / "source")): {"seconds": [], "metrics": {}} for p in paths}
    with cf.ThreadPoolExecutor(JOBS) as pool:
        for (p, _), (seconds, m) in zip(jobs, pool.map(lambda job: execute(job[0]), jobs)):
            entry = out[str(p.relative_to(REPO / "source"))]
            entry["seconds"].append(round(seconds, 2))
            entry["metrics"] = entry["metrics"] or m
    for entry in out.values():
        entry["median_seconds"] = round(statistics.median(entry["seconds"]), 2)
    return out


def _megabytes(path: Path) -> int:
    out = subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True).stdout.split()
    return round(int(out[0]) / 1024) if out else 0


def _site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages"))


def environment_figures() -> dict:
    """The learner's environment (`make venv`, no test tools) built from nothing in a scratch folder:
    install time and size, and the share torch takes; the maintainers' .venv (with test tools) beside it."""
    figures: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-venv-") as tmp:
        venv = Path(tmp) / "venv"
        print("building a learner environment from nothing (make venv) ...", flush=True)
        start = time.perf_counter()
        proc = subprocess.run(["make", "--no-print-directory", "venv", f"VENV={venv}"], cwd=REPO,
                              capture_output=True, text=True)
        if proc.returncode == 0:
            site = _site_packages(venv)
            figures["learner_install_seconds"] = round(time.perf_counter() - start)
            figures["learner_venv_mb"] = _megabytes(venv)
            figures["learner_torch_mb"] = _megabytes(site / "torch")
        else:
            figures["learner_install_error"] = (proc.stdout + proc.stderr)[-2000:]
    dev = REPO / ".venv"
    figures["dev_venv_mb"] = _megabytes(dev)
    return figures


def meta() -> dict:
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "machine": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
        "versions": {p: metadata.version(p) for p in PACKAGES},
        "runs_per_notebook": RUNS,
        "notebooks_at_once": JOBS,
    }


def _check(value: float, rule: tuple[str, float, str]) -> str:
    op, limit, _ = rule
    if not op:
        return "(reported)"
    ok = value <= limit if op == "<=" else value >= limit
    return f"{'pass' if ok else 'FAIL'} ({op} {limit:g})"


def report(data: dict) -> str:
    m = data["meta"]
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `make bench` on {m['cores']} cores, {m['machine']}: "
        + "; ".join(f"{part} on {when}" for part, when in m.get("measured", {}).items()) + ".",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + ".",
        "This file is written by `bench/run.py`; do not edit it by hand. Raw numbers: `benchmarks.json`.",
        "",
        "## Notebooks",
        "",
        f"Each source notebook executed top to bottom with its solutions, {m['runs_per_notebook']} times, "
        f"{m['notebooks_at_once']} notebooks at a time, one torch thread each. Budget: {BUDGET_SECONDS} s "
        "(judged here, not by the tests, which only cap a runaway).",
        "",
        "| Notebook | Median (s) | Runs (s) | Budget |",
        "| --- | ---: | --- | --- |",
    ]
    for name, entry in data["notebooks"].items():
        verdict = "pass" if entry["median_seconds"] <= BUDGET_SECONDS else "OVER"
        lines.append(f"| `{name}` | {entry['median_seconds']:.1f} | {', '.join(f'{s:.1f}' for s in entry['seconds'])} "
                     f"| {verdict} |")
    metrics: dict[str, float] = {}
    for entry in data["notebooks"].values():
        metrics.update(entry["metrics"])
    lines += ["", "## Toy models", "", "Read from the notebooks' own output (seeded: the same on every run).", "",
              "| Figure | Value | Threshold |", "| --- | ---: | --- |"]
    for key, rule in THRESHOLDS.items():
        if key in metrics:
            lines.append(f"| {rule[2]} (`{key}`) | {metrics[key]:.4g} | {_check(metrics[key], rule)} |")
    ks = sorted({int(k.rsplit("_k", 1)[1]) for k in metrics if k.startswith("fm_probe_k")})
    if ks:
        lines += ["", "Label efficiency (module 03): test accuracy (%) for which language a word is from, mean of 3 seeds.",
                  "", "| Method | " + " | ".join(f"k = {k}" for k in ks) + " |", "| --- |" + " ---: |" * len(ks)]
        for mode, label in LABEL_MODES:
            lines.append(f"| {label} | " + " | ".join(f"{metrics.get(f'fm_{mode}_k{k}', float('nan')):.1f}" for k in ks) + " |")
    lines += ["", f"All {len(metrics)} figures the notebooks report are in `benchmarks.json`."]
    if "grading" in data:
        g = data["grading"]
        lines += ["", "## Grading", "", grading_summary(g), "",
                  "| Submissions | Workers | Total (s) | Per submission (s) | Prepare (s) | Execute (s) | Record (s) | One submission's run (s, mean) |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for row in g["rows"]:
            cells = [f"{row['phase_seconds'][k]:.1f}" for k in ("prepare", "execute", "record")]
            lines.append(f"| {row['submissions']} | {row['jobs']} | {row['seconds']:.1f} | "
                         f"{row['seconds'] / row['submissions']:.2f} | {' | '.join(cells)} | "
                         f"{row['mean_worker_seconds']:.1f} |")
    env = data["environment"]
    lines += ["", "## Environment", ""]
    if "learner_venv_mb" in env:
        lines += [f"* The learner's environment (`make lab`: the course and its runtime packages, PyTorch's CPU "
                  f"build on Linux), built from nothing: {env['learner_venv_mb']:,} MB, of which torch "
                  f"{env['learner_torch_mb']:,} MB; installed in {env['learner_install_seconds']} s "
                  "(wheels from the package index or a local cache, so network speed counts)."]
    elif "learner_install_error" in env:
        lines += ["* The learner's environment could not be built: " + env["learner_install_error"]]
    else:
        lines += ["* The learner's environment was not measured (`make bench BENCH_ARGS='--only environment'`)."]
    lines += [f"* The maintainers' `.venv` (`make test`: plus pytest, JupyterHub and Playwright): "
              f"{env['dev_venv_mb']:,} MB.", ""]
    return "\n".join(lines)


PARTS = ("environment", "notebooks", "grading")


def main() -> None:
    import argparse

    p = argparse.ArgumentParser(description="Measure the course; write docs/benchmarks.md and .json.")
    p.add_argument("--only", choices=PARTS, action="append",
                   help="measure only this part (repeatable) and keep the others from docs/benchmarks.json")
    p.add_argument("--notebooks", metavar="GLOB", default="*/*.ipynb",
                   help="with --only notebooks: time only the source notebooks matching GLOB, keep the rest")
    args = p.parse_args()
    parts = args.only or list(PARTS)
    old_file = REPO / "docs" / "benchmarks.json"
    data = json.loads(old_file.read_text()) if args.only and old_file.exists() else {}
    start = time.perf_counter()
    prev = data.get("meta", {})
    measured = prev.get("measured") or {part: prev["date"] for part in PARTS if part in data and "date" in prev}
    data["meta"] = meta() | {"measured": measured}
    stamp = data["meta"]["date"]
    if "environment" in parts:
        data["environment"] = environment_figures()
    if "notebooks" in parts:
        print("timing notebooks ...", flush=True)
        data["notebooks"] = {**data.get("notebooks", {}), **notebook_figures(args.notebooks)}
        data["notebooks"] = {k: data["notebooks"][k] for k in sorted(data["notebooks"])
                             if (REPO / "source" / k).exists()}
    if "grading" in parts:
        data["grading"] = grading_figures()
    for part in parts:
        data["meta"]["measured"][part] = stamp
    data["meta"]["bench_seconds"] = round(time.perf_counter() - start, 1)
    docs = REPO / "docs"
    docs.mkdir(exist_ok=True)
    (docs / "benchmarks.json").write_text(json.dumps(data, indent=2) + "\n")
    (docs / "benchmarks.md").write_text(report(data))
    print(report(data))
    print(f"\nwritten docs/benchmarks.md and docs/benchmarks.json in {data['meta']['bench_seconds']:.0f} s")


GRADED_ASSIGNMENT = "01_generative_ai"  # a whole module: every notebook of it in each submission


def grading_summary(g: dict) -> str:
    """What the grading rows say, including what bounds the parallel speed-up."""
    rows = g["rows"]
    seq, par = rows[0], rows[1]
    ph1, ph2 = seq["phase_seconds"], par["phase_seconds"]
    fixed1 = ph1["prepare"] + ph1["record"]
    ideal = seq["seconds"] / (fixed1 + ph1["execute"] / 2)
    return (
        f"`make autograde` (`course.grading`, each submission in a bubblewrap sandbox) on answered "
        f"`{g['assignment']}` submissions (every notebook of the module), in a new course each time. Eight "
        f"submissions took {seq['seconds']:.1f} s one at a time and {par['seconds']:.1f} s two at a time "
        f"(x{seq['seconds'] / par['seconds']:.2f}). What bounds the speed-up, in numbers: (1) a fixed part that "
        f"does not run in parallel, {fixed1:.0f} s here, almost all of it the first grading of an assignment "
        f"executing the instructor's notebooks once to record the reference (kept for later runs while the "
        f"notebooks are unchanged); with it and a perfect halving of the rest the speed-up could be at most "
        f"x{ideal:.2f}. (2) How much two kernels side by side slow each other (other work on the machine counts "
        f"too): one submission took "
        f"{seq['mean_worker_seconds']:.1f} s on its own and {par['mean_worker_seconds']:.1f} s beside another "
        f"(x{par['mean_worker_seconds'] / seq['mean_worker_seconds']:.2f}), so the execute phase went from "
        f"{ph1['execute']:.1f} s to {ph2['execute']:.1f} s (x{ph1['execute'] / ph2['execute']:.2f}). "
        f"Load average when each run started: {', '.join(str(r.get('load_at_start', '?')) for r in rows)}. "
        f"Isolation: {seq['isolation']}.")


def grading_figures() -> dict:
    """Autograding time with ``course.grading`` on answered submissions of a whole module: 8 submissions one
    at a time and two at a time, and how the time grows with 1, 4 and 16 submissions (two at a time).
    Each run is split into its phases (prepare and record run once per run, execute in parallel), which
    shows what bounds the parallel speed-up."""
    sys.path.insert(0, str(REPO / "bench"))
    import grading_bench

    plan = [(8, 1), (8, 2), (1, 2), (4, 2), (16, 2)]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        for i, (n, jobs) in enumerate(plan):
            print(f"grading {n} submission(s) of {GRADED_ASSIGNMENT}, {jobs} at a time ...", flush=True)
            load = os.getloadavg()[0]
            r = grading_bench.run(GRADED_ASSIGNMENT, n, jobs, Path(tmp) / f"run{i}")
            rows.append({"submissions": n, "jobs": jobs, "seconds": r["wall_seconds"], "phases": r["phases"],
                         "phase_seconds": r["phase_seconds"], "mean_worker_seconds": r["mean_worker_seconds"],
                         "graded": r["graded"], "isolation": r["isolation"], "load_at_start": round(load, 2)})
    return {"assignment": GRADED_ASSIGNMENT, "rows": rows}


if __name__ == "__main__":
    main()
