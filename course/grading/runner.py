"""The grading run: every submission of an assignment, isolated, in parallel (``python -m course.grading``).

1. The submitted files are copied (regular files only, never through a link) into the grader's own folder,
   and read there before anything runs (:func:`course.grading.integrity.inspect_submission`).
2. Each submission gets a scratch course of its own and one ``nbgrader autograde`` there, with the execute
   pipeline of :mod:`course.grading.pipeline`: each notebook's kernel runs in a new sandbox box of its own,
   and the notebook is scored and cleaned outside it. Nothing a kernel made is ever followed or written
   through: the executed notebooks are read back without following links, within a size limit, and
   staged with their checksums; what a kernel left in its box is listed (flag ``planted_file``) and removed.
3. One ``nbgrader autograde`` in the real course records the staged notebooks (the record pipeline), after
   their checksums are verified, one student after another: the gradebook, formgrader and feedback work as
   with plain nbgrader and end up the same whatever ``--jobs`` was.
The report goes to ``reports/<assignment>/`` (``integrity.csv`` and ``.txt``, ``items.csv``); see docs/grading.md.
"""

from __future__ import annotations

import dataclasses
import json
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
from course.grading.files import UnsafeFile, copy_regular_files, planted, read_regular, remove_tree, sha256
from course.grading.integrity import Row, inspect_submission, write_items
from course.grading.pipeline import arguments, execute_preprocessors, record_preprocessors
from course.grading.sandbox import INSTALL_HINT, Limits, SandboxUnavailable, font_cache, probe, readonly_paths, refusing_kernelspec

UID_BASE = 61000  # kernels of submission i run as uid UID_BASE + i (when grading as root)
REFERENCE_STUDENT = "_reference"  # the instructor's notebooks, graded like a submission to record the reference


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


def _nbgrader(cwd: Path, *args: str, env: dict[str, str] | None = None, log: Path | None = None,
              timeout: float | None = None) -> int:
    """Run nbgrader in ``cwd``; output to ``log`` (or discarded). Raises ``TimeoutExpired`` after killing it."""
    bin_dir = Path(sys.executable).parent
    env = (env or dict(os.environ)) | {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    with open(log or os.devnull, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "nbgrader", *args], cwd=cwd, env=env, stdout=out,
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
        self.config = self.root / "nbgrader_config.py"
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

    # --- preparing ---------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Register the assignment in the real gradebook, build the template scratch course, get the reference."""
        if self.scratch.exists():
            shutil.rmtree(self.scratch)
        template = self.scratch / "template"
        shutil.copytree(self.root / "source" / self.a, template / "source" / self.a,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        shutil.copyfile(self.config, template / "nbgrader_config.py")  # its paths are relative to its own folder
        gen = ["generate_assignment", self.a, "--force", "--log-level=WARN"]
        register = arguments({"CourseDirectory": {"release_directory": str(self.scratch / "release")}})
        with ThreadPoolExecutor(2) as pool:  # the real gradebook and the template's, at the same time
            runs = {name: pool.submit(_nbgrader, cwd, *gen, *extra, log=self.scratch / f"{name}.log")
                    for name, cwd, extra in (("register", self.root, register), ("template", template, []))}
        for name, run in runs.items():
            if run.result() != 0:
                log = (self.scratch / f"{name}.log").read_text()[-2000:]
                raise GradingError(f"nbgrader generate_assignment {self.a} failed ({name}):\n{log}")
        shutil.rmtree(template / "release", ignore_errors=True)
        refusing_kernelspec(self.scratch / "jupyter")
        font_cache(self.scratch / "home")
        self.released = {n: nbformat.read(self.scratch / "release" / self.a / f"{n}.ipynb", 4) for n in self.names}
        self.source = {n: nbformat.read(self.root / "source" / self.a / f"{n}.ipynb", 4) for n in self.names}
        cache = self.root / ".scratch" / "grading-reference" / f"{self.a}-{reference.key(self.root, self.a, self.names)}.json"
        self.reference_file = cache
        self.reference = reference.load_or_record(cache, self._record_reference)

    def _record_reference(self) -> reference.Reference:
        folder = self.scratch / "reference-submission"
        copy_regular_files(self.root / "source" / self.a, folder)
        _, outcomes, _ = self._execute(REFERENCE_STUDENT, folder, index=0, hold={}, score=False)
        recorded: reference.Reference = {}
        for name in self.names:
            try:
                found = json.loads((outcomes / f"{name}.json").read_text())
            except OSError:
                raise GradingError(f"the instructor's notebook {name} could not be executed: "
                                   f"{_last_error(self.scratch / 'logs' / f'{REFERENCE_STUDENT}.log')}") from None
            if found["broken"]:
                raise GradingError(f"the instructor's notebook {name} fails its own tests, so no reference can be "
                                   f"recorded: {'; '.join(found['broken'][:3])}")
            recorded[name] = found["reference"]
            for gid, payloads in recorded[name].items():
                try:
                    scoring.score_cell(1.0, payloads, payloads)
                except ValueError as exc:
                    raise GradingError(f"{name}: test cell {gid}: {exc}") from None
        return recorded

    # --- executing ---------------------------------------------------------------------------------
    def _execute(self, student: str, files: Path, index: int, hold: dict[str, str], score: bool = True,
                 row: Row | None = None) -> tuple[Path, Path, list[str]]:
        """One ``nbgrader autograde`` of one submission in its own scratch course, each kernel in a new box.

        ``files``: the grader's own copy of the submission. Returns the folder of executed notebooks, the
        folder of what scoring found, and what the kernels left in their boxes that is not a plain file.
        """
        course = self.scratch / "work" / student
        shutil.copytree(self.scratch / "template", course)
        submitted = course / "submitted" / student / self.a
        copy_regular_files(files, submitted)
        outcomes = self.scratch / "outcomes" / student
        boxes = Path(tempfile.mkdtemp(prefix="cgr-"))  # short: ZeroMQ's socket paths must stay under 108 bytes
        uid = None if self.uid_base is None or self.mode == "none" else self.uid_base + index
        settings = {
            "Autograde": execute_preprocessors(),
            "SandboxKernelManager": {"mode": self.mode, "boxes": str(boxes), "files": str(submitted),
                                     "home": str(self.scratch / "home"), "uid": -1 if uid is None else uid,
                                     "readonly": list(readonly_paths()), "limits": dataclasses.asdict(self.limits)},
            "ScoreObservations": {"reference": str(self.reference_file) if score else "", "outcome_dir": str(outcomes),
                                  "hold": hold},
            "CleanOutputs": {"source": str(self.root / "source" / self.a), "outcome_dir": str(outcomes)},
        }
        if self.opts.timeout:
            settings["Execute"] = {"timeout": int(self.opts.timeout)}
        env = dict(os.environ) | {"JUPYTER_PATH": os.pathsep.join([str(self.scratch / "jupyter"),
                                                                    os.environ.get("JUPYTER_PATH", "")])}
        log = self.scratch / "logs" / f"{student}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        problem = None
        try:
            rc = _nbgrader(course, "autograde", self.a, "--student", student, "--create", "--force",
                           *arguments(settings), env=env, log=log, timeout=self.opts.submission_timeout)
            if rc < 0:
                problem = f"the grading process was killed (signal {-rc}) before it finished; log: {log}"
            elif "Exception while loading config file" in log.read_text(errors="replace"):
                problem = f"the grading configuration did not load (see {log})"
        except subprocess.TimeoutExpired:
            problem = f"grading took longer than {self.opts.submission_timeout} s and was stopped"
        finally:
            left = [f"{box.name}: {what}" for box in sorted(boxes.iterdir()) for what in planted(box / "work")]
            remove_tree(boxes)
        if problem:
            if row is None:
                raise GradingError(f"{student}: {problem}")
            row.details.append(problem)
            raise _NotGraded
        return course / "autograded" / student / self.a, outcomes, left

    def grade_one(self, student: str, index: int) -> Row:
        """Execute one submission, scored outside the kernel, and stage the result for recording."""
        t0 = time.monotonic()
        mine = self.scratch / "submissions" / student
        dropped = copy_regular_files(self.root / "submitted" / student / self.a, mine)
        found = inspect_submission(mine, self.released, self.source)
        row = Row(student, "NOT GRADED", flags=found.flags, details=found.details)
        row.details += [f"left out (not a regular file): {d}" for d in dropped]
        if not found.gradable:
            return row
        try:
            done, outcomes, left = self._execute(student, mine, index + 1, found.hold, row=row)
        except _NotGraded:
            return row
        finally:
            row.seconds = time.monotonic() - t0
        if left:
            row.flags.add("planted_file")
            row.details += [f"a kernel made {what}; grading never follows it" for what in left]
        stage = self.scratch / "staged" / student / self.a
        stage.mkdir(parents=True, exist_ok=True)
        for name in self.names:
            if not (mine / f"{name}.ipynb").is_file():
                continue
            try:
                data = read_regular(done / f"{name}.ipynb")
                seen = [json.loads((outcomes / f"{name}{part}.json").read_text()) for part in ("", ".clean")]
            except (OSError, UnsafeFile, ValueError) as exc:
                detail = exc if isinstance(exc, UnsafeFile) else _last_error(self.scratch / "logs" / f"{student}.log")
                row.details.append(f"{name}.ipynb could not be executed: {detail}")
                return row
            for part in seen:
                row.flags |= set(part["flags"])
                row.details += part["details"]
            row.items += [{"notebook": name, **item} for item in seen[0]["items"]]
            (stage / f"{name}.ipynb").write_bytes(data)
            row.checksums[f"{name}.ipynb"] = sha256(data)
        # The graded submission is what was submitted: the executed notebooks, and the other submitted
        # files as they were handed in (never files a kernel wrote while it ran).
        for path in sorted(mine.iterdir()):
            if path.is_file() and not path.is_symlink() and not (stage / path.name).exists():
                shutil.copyfile(path, stage / path.name)
        if not self.opts.keep_scratch:
            shutil.rmtree(self.scratch / "work" / student, ignore_errors=True)
        row.status = "staged"
        return row

    # --- recording ---------------------------------------------------------------------------------
    def merge(self, rows: list[Row]) -> None:
        """Record the staged submissions in the real course: one nbgrader run, no execution."""
        for row in (r for r in rows if r.status == "staged"):
            stage = self.scratch / "staged" / row.student / self.a
            changed = [n for n, digest in row.checksums.items() if sha256((stage / n).read_bytes()) != digest]
            if changed:
                row.status = "NOT GRADED"
                row.details.append(f"the scored notebooks changed before they were recorded: {', '.join(changed)}")
                shutil.rmtree(stage.parent)
        staged = [r for r in rows if r.status == "staged"]
        if not staged:
            return
        log = self.scratch / "logs" / "record.log"
        settings = {"Autograde": record_preprocessors(),
                    "CourseDirectory": {"submitted_directory": str(self.scratch / "staged")}}
        for row in staged:  # what is in autograded/ after the run was recorded by it
            remove_tree(self.root / "autograded" / row.student / self.a)
        _nbgrader(self.root, "autograde", self.a, "--create", "--force", *arguments(settings), log=log)
        for row in staged:
            graded = self.root / "autograded" / row.student / self.a
            if all((graded / name).is_file() for name in row.checksums):
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
        result = sorted(ordered + skipped, key=lambda r: r.student)
        write_items(result, self.root / "reports" / self.a / "items.csv")
        return result
