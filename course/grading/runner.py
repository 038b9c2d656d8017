"""The grading run: every submission of an assignment, isolated, in parallel (``python -m course.grading``).

For each submission, a worker builds a scratch course (the config, the assignment's source, a
fresh gradebook with only this assignment, and only this student's files) and runs ``nbgrader
autograde`` there, with the kernel in :mod:`course.grading.sandbox`. The executed notebooks are then put
into the real course by one ``nbgrader autograde`` run that does not execute anything (same
preprocessors minus ``Execute`` and ``ClearOutput``), one student after another: the gradebook,
formgrader and feedback work as with plain nbgrader, and end up the same whatever ``--jobs`` was.
The report goes to ``reports/<assignment>/integrity.csv`` (and ``.txt``); see docs/grading.md.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path


import nbformat

from course.grading import reference, scoring
from course.grading.integrity import Row, inspect_executed, inspect_submission
from course.grading.sandbox import (INSTALL_HINT, Limits, Sandbox, SandboxUnavailable, copy_regular_files, font_cache,
                            probe, readonly_paths, refusing_kernelspec)

UID_BASE = 61000  # kernels of submission i run as uid UID_BASE + i (when grading as root)
# Recording already executed notebooks: nbgrader's preprocessors without ClearOutput and Execute.
_MERGE = [f"--Autograde.sanitize_preprocessors=nbgrader.preprocessors.{p}"
          for p in ("DeduplicateIds", "OverwriteKernelspec", "OverwriteCells", "CheckCellMetadata")]
_MERGE += [f"--Autograde.autograde_preprocessors={p}" for p in (
    "nbgrader.preprocessors.IgnorePattern", "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput", "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties", "nbgrader.preprocessors.CheckCellMetadata")]
_SANDBOX_CONFIG = """
# Added for grading: nbgrader's autograde preprocessors, with the kernel in course.grading.sandbox.
c.Autograde.autograde_preprocessors = [
    "course.grading.sandbox.SandboxedExecute", "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor", "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades", "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
"""


class GradingError(RuntimeError):
    """A problem the instructor must fix before grading (the message says what)."""


class _NotGraded(Exception):
    """One submission could not be executed; the reason is in its report row."""


@dataclass
class Options:
    assignment: str
    root: Path = Path(".")
    jobs: int = os.cpu_count() or 1
    timeout: int | None = None  # per cell, seconds (default: c.Execute.timeout of the course)
    submission_timeout: int = 900  # per submission, seconds
    memory: int = Limits.memory_bytes
    force: bool = False
    allow_unisolated: bool = False
    students: list[str] = field(default_factory=list)
    keep_scratch: bool = False


def _nbgrader(root: Path, *args: str, env: dict[str, str] | None = None, log: Path | None = None,
              timeout: float | None = None) -> int:
    """Run nbgrader in ``root``; output to ``log`` (or captured). Raises ``TimeoutExpired`` after killing it."""
    bin_dir = Path(sys.executable).parent
    env = (env or dict(os.environ)) | {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    with open(log or os.devnull, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "nbgrader", *args], cwd=root, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)  # nbgrader and its sandboxed kernel (bwrap --die-with-parent)
            proc.wait()
            raise


def _last_error(log: Path) -> str:
    lines = [ln for ln in log.read_text(errors="replace").splitlines() if "ERROR" in ln or "Error" in ln]
    return lines[-1].strip()[-200:] if lines else "nbgrader failed (see the log)"


class Grader:
    """One grading run of one assignment in one course folder."""

    def __init__(self, opts: Options) -> None:
        self.opts = opts
        self.root = opts.root.resolve()
        self.a = opts.assignment
        if not (self.root / "nbgrader_config.py").is_file():
            raise GradingError(f"{self.root} is not a course folder (no nbgrader_config.py)")
        names = sorted(p.stem for p in (self.root / "source" / self.a).glob("*.ipynb"))
        if not names:
            known = sorted(p.name for p in (self.root / "source").glob("*/") if any(p.glob("*.ipynb")))
            raise GradingError(f"no assignment {self.a!r} in source/ (known: {', '.join(known) or 'none'})")
        self.names = names
        self.scratch = self.root / ".scratch" / "grading" / self.a
        self.limits = Limits(memory_bytes=opts.memory, cpu_seconds=opts.submission_timeout)
        self.uid_base = UID_BASE if os.geteuid() == 0 else None
        exposed = [p for p in readonly_paths() if self.root == Path(p) or Path(p) in self.root.parents]
        if exposed:
            raise GradingError(f"the kernel must see {exposed[0]} (Python or the course package), which holds the "
                               f"course folder {self.root}: install the environment outside the course folder")
        self.mode, self.isolation = self._isolation()

    def _isolation(self) -> tuple[str, str]:
        try:
            return "bwrap", probe(self.uid_base, self.limits)
        except SandboxUnavailable as exc:
            if not self.opts.allow_unisolated:
                raise GradingError(
                    f"student code cannot be isolated here: {exc}.\nFix that ({INSTALL_HINT}), or grade "
                    "WITHOUT isolation with --allow-unisolated (make: ALLOW_UNISOLATED=1): student code then "
                    "runs with your rights and can read the solutions, hidden tests and gradebook.") from exc
            limits = "only resource limits apply" if self.limits.prlimit() else "and without resource limits"
            print(f"WARNING: grading WITHOUT isolation: {exc}", file=sys.stderr)
            return "none", f"NOT ISOLATED ({exc}): student code runs with your rights, {limits}"

    def submissions(self) -> list[str]:
        found = sorted(p.parent.name for p in (self.root / "submitted").glob(f"*/{self.a}") if p.is_dir())
        if self.opts.students:
            missing = sorted(set(self.opts.students) - set(found))
            if missing:
                raise GradingError(f"no submission of {self.a} for: {', '.join(missing)}")
            found = [s for s in found if s in self.opts.students]
        return found

    def prepare(self) -> None:
        """Register the assignment in the real gradebook and build the template scratch course."""
        if self.scratch.exists():
            shutil.rmtree(self.scratch)
        template = self.scratch / "template"
        (template / "source").mkdir(parents=True)
        config = (self.root / "nbgrader_config.py").read_text() + _SANDBOX_CONFIG
        if self.opts.timeout:
            config += f"c.Execute.timeout = {int(self.opts.timeout)}\n"
        (template / "nbgrader_config.py").write_text(config)
        if (self.root / "autotests.yml").exists():
            shutil.copy(self.root / "autotests.yml", template / "autotests.yml")
        shutil.copytree(self.root / "source" / self.a, template / "source" / self.a,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        gen = ["generate_assignment", self.a, "--force", "--log-level=WARN"]
        rel = f"--CourseDirectory.release_directory={self.scratch / 'release'}"
        with ThreadPoolExecutor(2) as pool:  # the real gradebook and the template's, at the same time
            runs = {root: pool.submit(_nbgrader, root, *gen, *extra, log=self.scratch / f"register-{i}.log")
                    for i, (root, extra) in enumerate(((self.root, [rel]), (template, [])))}
        for i, (root, run) in enumerate(runs.items()):
            if run.result() != 0:
                log = (self.scratch / f"register-{i}.log").read_text()[-2000:]
                raise GradingError(f"nbgrader generate_assignment {self.a} failed in {root}:\n{log}")
        shutil.rmtree(template / "release")
        refusing_kernelspec(self.scratch / "jupyter")
        font_cache(self.scratch / "home")
        self.released = {n: nbformat.read(self.scratch / "release" / self.a / f"{n}.ipynb", 4) for n in self.names}
        self.source = {n: nbformat.read(self.root / "source" / self.a / f"{n}.ipynb", 4) for n in self.names}
        self.reference = reference.load_or_record(self)

    def _execute(self, student: str, submitted: Path, index: int, row: Row | None = None) -> Path:
        """Run ``nbgrader autograde`` on one submission in its own scratch course, the kernel in the sandbox.

        Returns the folder of executed notebooks. Problems go into ``row`` (or raise, without one).
        """
        course = self.scratch / "work" / student
        shutil.copytree(self.scratch / "template", course)
        dropped = copy_regular_files(submitted, course / "submitted" / student / self.a)
        if row is not None:
            row.details += [f"left out (not a regular file): {d}" for d in dropped]
        box = tempfile.mkdtemp(prefix="cgr-")
        shutil.copytree(self.scratch / "home", Path(box) / "home")
        uid = None if self.uid_base is None or self.mode == "none" else self.uid_base + index
        sandbox = Sandbox(self.mode, box, uid, readonly_paths(), self.limits)
        jupyter_path = os.pathsep.join([str(self.scratch / "jupyter"), os.environ.get("JUPYTER_PATH", "")])
        env = dict(os.environ) | {"COURSE_SANDBOX": sandbox.to_env(), "JUPYTER_PATH": jupyter_path}
        log = self.scratch / "logs" / f"{student}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        problem = None
        try:
            rc = _nbgrader(course, "autograde", self.a, "--student", student, "--create", "--force", env=env,
                           log=log, timeout=self.opts.submission_timeout)
            if rc < 0:
                problem = f"the grading process was killed (signal {-rc}) before it finished; log: {log}"
            elif "Exception while loading config file" in log.read_text(errors="replace"):
                problem = f"the grading configuration did not load (see {log})"
        except subprocess.TimeoutExpired:
            problem = f"grading took longer than {self.opts.submission_timeout} s and was stopped"
        finally:
            shutil.rmtree(box, ignore_errors=True)
        if problem:
            if row is None:
                raise GradingError(f"{student}: {problem}")
            row.details.append(problem)
            raise _NotGraded
        return course / "autograded" / student / self.a

    def grade_one(self, student: str, index: int) -> Row:
        """Execute one submission, score it outside the kernel, and stage the result for the merge."""
        t0 = time.monotonic()
        submitted = self.root / "submitted" / student / self.a
        found = inspect_submission(submitted, self.released, self.source)
        row = Row(student, "NOT GRADED", flags=found.flags, details=found.details)
        if not found.gradable:
            return row
        try:
            done = self._execute(student, submitted, index + 1, row)
        except _NotGraded:
            return row
        finally:
            row.seconds = time.monotonic() - t0
        stage = self.scratch / "staged" / student / self.a
        stage.mkdir(parents=True, exist_ok=True)
        outcome = scoring.Outcome()
        for name in self.names:
            if not (submitted / f"{name}.ipynb").is_file():
                continue
            try:
                nb = nbformat.read(done / f"{name}.ipynb", 4)
            except (OSError, ValueError):
                row.details.append(f"{name}.ipynb could not be executed: {_last_error(self.scratch / 'logs' / f'{student}.log')}")
                return row
            row.flags |= inspect_executed(nb)
            scoring.score_notebook(nb, self.reference.get(name, {}), outcome)
            scoring.clean_outputs(nb, self.source[name], outcome)
            nbformat.write(nb, stage / f"{name}.ipynb")
        row.flags |= outcome.flags
        row.details += outcome.details
        # The graded submission is what was submitted: the executed notebooks, and the other submitted
        # files as they were handed in (never files the kernel wrote while it ran).
        for path in sorted(submitted.iterdir()):
            if path.is_file() and not path.is_symlink() and not (stage / path.name).exists():
                shutil.copyfile(path, stage / path.name)
        if not self.opts.keep_scratch:
            shutil.rmtree(self.scratch / "work" / student, ignore_errors=True)
        row.status = "staged"
        return row

    def merge(self, rows: list[Row]) -> None:
        """Record the staged submissions in the real course: one nbgrader run, no execution."""
        staged = [r for r in rows if r.status == "staged"]
        if not staged:
            return
        log = self.scratch / "logs" / "merge.log"
        started = time.time()
        _nbgrader(self.root, "autograde", self.a, "--create", "--force",
                  f"--CourseDirectory.submitted_directory={self.scratch / 'staged'}", *_MERGE, log=log)
        for row in staged:
            notebooks = list((self.root / "autograded" / row.student / self.a).glob("*.ipynb"))
            if notebooks and min(nb.stat().st_mtime for nb in notebooks) >= started - 1:
                row.status = "graded"
            else:
                row.status = "NOT GRADED"
                row.details.append(f"not recorded by nbgrader: {_last_error(log)} (log: {log})")
        self._scores(staged)

    def _scores(self, rows: list[Row]) -> None:
        """Fill in the scores of graded and skipped rows from the gradebook."""
        from nbgrader.api import Gradebook, MissingEntry

        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gb:
            for row in rows:
                if row.status in ("graded", "skipped"):
                    try:
                        sub = gb.find_submission(self.a, row.student)
                    except MissingEntry:
                        row.status = "NOT GRADED"
                        row.details.append("not in the gradebook")
                        continue
                    row.score, row.max_score = sub.code_score, sub.max_code_score

    def run(self) -> list[Row]:
        students = self.submissions()
        if not students:
            raise GradingError(f"no submissions of {self.a} in {self.root / 'submitted'}/<student>/{self.a}")
        done = {s for s in students if (self.root / "autograded" / s / self.a).is_dir()}
        todo = students if self.opts.force else [s for s in students if s not in done]
        print(f"Grading {self.a}: {len(todo)} submissions ({len(students) - len(todo)} already graded, kept; "
              f"--force regrades), {self.opts.jobs} at a time.\nIsolation: {self.isolation}", flush=True)
        t0 = time.monotonic()
        self.prepare()
        t1 = time.monotonic()
        (self.scratch / "logs").mkdir(parents=True, exist_ok=True)
        rows: dict[str, Row] = {}
        with ThreadPoolExecutor(max_workers=max(1, self.opts.jobs)) as pool:
            futures = {pool.submit(self.grade_one, s, i): s for i, s in enumerate(todo)}
            for n, future in enumerate(as_completed(futures), 1):
                student = futures[future]
                try:
                    rows[student] = future.result()
                except Exception as exc:  # a bug or a full disk: report it, keep grading the others
                    rows[student] = Row(student, "NOT GRADED", details=[f"grader error: {exc!r}"])
                r = rows[student]
                print(f"[{n}/{len(todo)}] {student}: {'executed' if r.status == 'staged' else r.status} "
                      f"({r.seconds:.1f} s)", flush=True)
        ordered = [rows[s] for s in sorted(rows)]
        t2 = time.monotonic()
        self.merge(ordered)
        print(f"Phases: prepare {t1 - t0:.1f} s, execute {t2 - t1:.1f} s ({self.opts.jobs} at a time), "
              f"record {time.monotonic() - t2:.1f} s", flush=True)
        skipped = [Row(s, "skipped") for s in sorted(set(students) - set(todo))]
        self._scores(skipped)
        return sorted(ordered + skipped, key=lambda r: r.student)
