"""The sandbox a student's kernel runs in while it is graded.

nbgrader runs outside the sandbox (it needs the assignment's source and a gradebook); only the
*kernel*, the process that executes the student's code, is wrapped. On Linux with bubblewrap
(``bwrap``) the kernel gets:

- its own mount namespace holding only the system (``/usr``, ``/etc``, read-only), the Python
  installation and the ``course`` package (read-only), a private ``/tmp`` and ``$HOME``, and the
  scratch copy of the one submission it grades (read-write; the notebook files in it read as
  empty, as they hold the hidden tests while grading). Nothing else of the host exists in it:
  no course folder, no gradebook, no other submission;
- its own network namespace (only its own loopback: no host service, no internet), its own
  PID, IPC and UTS namespaces; it dies with the grader;
- when the grader runs as root, a separate unprivileged uid with no capabilities;
- resource limits (``prlimit``): address space, CPU seconds, processes, file size, open files.

Every kernel gets a *box* of its own, made new when it starts (``run/`` for the ZeroMQ ``ipc`` sockets,
``home/``, ``tmp/`` and ``work/``, its working folder: a copy of the submitted files, notebooks empty).
nbgrader never writes into a box, and nothing outside the sandbox follows, opens or changes what a
kernel left there: the grader only lists it (:func:`course.grading.files.planted`) and removes it.
:class:`SandboxedExecute` is nbgrader's ``Execute`` preprocessor with this kernel manager; its settings
are traits of :class:`SandboxKernelManager`, set in the grading run's configuration
(:mod:`course.grading.pipeline`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Dict, Int, List, Unicode

from course.grading.files import copy_regular_files

INSTALL_HINT = "install bubblewrap (Debian/Ubuntu: sudo apt-get install bubblewrap)"
#: Environment variables handed from nbgrader to the kernel; everything else is cleared.
PASSED_ENV = ("NBGRADER_EXECUTION", "LANG", "LC_ALL", "TZ", "PYTHONHASHSEED")


class SandboxUnavailable(RuntimeError):
    """Isolation cannot be had on this machine (the message says why)."""


@dataclass(frozen=True)
class Limits:
    """Per-kernel resource limits (``prlimit``)."""

    memory_bytes: int = 3 * 2**30  # address space: torch alone maps about 0.7 GB
    cpu_seconds: int = 900
    processes: int = 256
    file_bytes: int = 256 * 2**20
    open_files: int = 1024

    def prlimit(self) -> list[str]:
        """The ``prlimit`` prefix of a command ([] where util-linux's prlimit is missing)."""
        exe = shutil.which("prlimit") or ("/usr/bin/prlimit" if os.path.exists("/usr/bin/prlimit") else None)
        if exe is None:
            return []
        return [exe, f"--as={self.memory_bytes}", f"--cpu={self.cpu_seconds}",
                f"--nproc={self.processes}", f"--fsize={self.file_bytes}",
                f"--nofile={self.open_files}", "--core=0", "--"]


@dataclass(frozen=True)
class Sandbox:
    """How to wrap one kernel. ``mode`` is ``"bwrap"`` (isolated) or ``"none"`` (limits only)."""

    mode: str
    box: str  # per-submission folder on the host: run/ (sockets), home/, tmp/
    uid: int | None = None  # host uid of the kernel (only when the grader is root)
    readonly: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)

    @property
    def run_dir(self) -> Path:
        return Path(self.box) / "run"

    def prepare(self) -> None:
        """Create the box (it must not exist yet) and hand it to the kernel's uid."""
        for sub in ("run", "home", "tmp", "work"):
            (Path(self.box) / sub).mkdir(parents=True, exist_ok=True)
        (Path(self.box) / "empty").write_bytes(b"")
        if self.uid is None:
            return
        for dirpath, dirnames, filenames in os.walk(self.box):  # all made by the grader just now
            for name in [*dirnames, *filenames, ""]:
                os.chown(os.path.join(dirpath, name) if name else dirpath, self.uid, self.uid, follow_symlinks=False)

    @property
    def work_dir(self) -> str:
        return str(Path(self.box) / "work")

    def wrap(self, argv: list[str], cwd: str | None) -> list[str]:
        """The command that runs ``argv`` (the kernel) inside the sandbox, in folder ``cwd`` (its box's work/)."""
        if self.mode == "none":
            return self.limits.prlimit() + argv
        box = Path(self.box)
        # The private /tmp and $HOME first: a later bind inside /tmp (a course cloned under /tmp,
        # its .venv) must land on top of the private /tmp, not be hidden by it.
        binds: list[tuple[str, str, str]] = [("--bind", str(box / "tmp"), "/tmp"),
                                             ("--bind", str(box / "home"), "/home/student")]
        binds += [("--ro-bind", p, p) for p in self.readonly]
        binds.append(("--bind", str(self.run_dir), str(self.run_dir)))
        if cwd:
            binds.append(("--bind", cwd, cwd))
        cmd = ["bwrap", "--die-with-parent", "--new-session", "--unshare-ipc", "--unshare-pid",
               "--unshare-net", "--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox"]
        cmd += ["--unshare-user"] if self.uid is None else []
        cmd += ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc", "--proc", "/proc", "--dev", "/dev"]
        for top in ("bin", "lib", "lib64", "sbin"):
            if os.path.islink(f"/{top}"):
                cmd += ["--symlink", os.readlink(f"/{top}"), f"/{top}"]
            elif os.path.isdir(f"/{top}"):
                cmd += ["--ro-bind", f"/{top}", f"/{top}"]
        made: set[str] = {"/", "/usr", "/etc", "/proc", "/dev", "/bin", "/lib", "/lib64", "/sbin"}
        for flag, src, dest in binds:
            # bwrap would create missing parents with mode 0700: make them traversable.
            for parent in reversed(Path(dest).parents):
                if str(parent) not in made:
                    cmd += ["--perms", "0755", "--dir", str(parent)]
                    made.add(str(parent))
            cmd += [flag, src, dest]
            made.add(dest)
        env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
        env |= {"HOME": "/home/student", "TMPDIR": "/tmp", "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
                "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                "MPLCONFIGDIR": "/home/student/.config/matplotlib", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        cmd += ["--clearenv", "--chdir", cwd or "/home/student"]
        for key, value in sorted(env.items()):
            cmd += ["--setenv", key, value]
        if self.uid is not None:
            cmd += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--", "setpriv",
                    f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups", "--no-new-privs",
                    "--inh-caps=-all", "--bounding-set=-all"]
        return self.limits.prlimit() + cmd + ["--"] + argv


def readonly_paths() -> tuple[str, ...]:
    """What the kernel must see read-only: the Python installation and the ``course`` package."""
    import course

    paths = {os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix),
             str(Path(course.__file__).resolve().parent)}
    system = ("/usr", "/etc")
    return tuple(sorted(p for p in paths if not any(p == s or p.startswith(s + "/") for s in system)))


def probe(uid: int | None, limits: Limits) -> str:
    """Check that the sandbox works here; returns a one-line description, raises :class:`SandboxUnavailable`."""
    if not sys.platform.startswith("linux"):
        raise SandboxUnavailable(f"the sandbox needs Linux (this is {sys.platform})")
    if shutil.which("bwrap") is None:
        raise SandboxUnavailable(f"bubblewrap (bwrap) is not installed: {INSTALL_HINT}")
    if not limits.prlimit():
        raise SandboxUnavailable("prlimit (util-linux) is not installed: no memory or CPU cap")
    with tempfile.TemporaryDirectory(prefix="cgr-probe-") as box:
        sandbox = Sandbox("bwrap", box, uid, readonly_paths(), limits)
        sandbox.prepare()
        code = "import os, socket, course; print(os.getuid())"
        cmd = sandbox.wrap([sys.executable, "-c", code], None)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise SandboxUnavailable(f"bubblewrap failed here ({proc.stderr.strip()[-300:]}); "
                                     "user namespaces may be disabled (sysctl kernel.unprivileged_userns_clone)")
    who = f"as unprivileged uid {uid}" if uid is not None else "as your own uid (not root: no separate user)"
    return (f"bubblewrap sandbox {who}: no network, no view of the course folder, "
            f"memory cap {limits.memory_bytes // 2**20} MiB, CPU cap {limits.cpu_seconds} s")


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager that starts every kernel inside a :class:`Sandbox`, in a new box of its own."""

    mode = Unicode("bwrap", help="'bwrap' (isolated) or 'none' (resource limits only)").tag(config=True)
    boxes = Unicode(help="grader-owned folder in which each kernel gets a new box").tag(config=True)
    files = Unicode(help="the submission's files, copied into each kernel's working folder").tag(config=True)
    home = Unicode(help="a home folder to copy for each kernel (matplotlib's font cache)").tag(config=True)
    uid = Int(-1, help="host uid of the kernel (-1: the grader's own)").tag(config=True)
    readonly = List(Unicode(), help="host paths the kernel sees read-only").tag(config=True)
    limits = Dict(help="Limits fields (prlimit), as numbers or their text").tag(config=True)

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        if not self.boxes:
            raise SandboxUnavailable("SandboxKernelManager.boxes is not set: run grading through `python -m course.grading`")
        box = tempfile.mkdtemp(prefix="kernel-", dir=self.boxes)  # new, empty, private to this kernel
        self._sandbox = Sandbox(self.mode, box, None if self.uid < 0 else self.uid, tuple(self.readonly),
                                Limits(**{k: int(v) for k, v in self.limits.items()}))
        if self.home:
            shutil.copytree(self.home, Path(box) / "home")
        if self.files:  # the notebooks hold the hidden tests while they are graded: the kernel gets them empty
            copy_regular_files(Path(self.files), Path(self._sandbox.work_dir), blank=(".ipynb",))
        self._sandbox.prepare()
        kw["cwd"] = self._sandbox.work_dir  # never the folder nbgrader writes the graded notebook into
        self.transport = "ipc"  # ZeroMQ over Unix sockets: works across the network namespace
        self.ip = str(self._sandbox.run_dir / "k")
        self.connection_file = str(self._sandbox.run_dir / "kernel.json")
        assert self.kernel_spec is not None
        # bwrap does not forward SIGINT: interrupt (on a cell timeout) by message instead.
        self.kernel_spec.interrupt_mode = "message"
        return await super()._async_pre_start_kernel(**kw)

    def write_connection_file(self, **kwargs: Any) -> None:
        super().write_connection_file(**kwargs)
        if self._sandbox.uid is not None:
            os.chown(self.connection_file, self._sandbox.uid, self._sandbox.uid, follow_symlinks=False)

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        # Our own command, not the kernelspec's: the grader installs a "python3" kernelspec that refuses
        # to start, so that a kernel started without this manager fails instead of running unsandboxed.
        # -I: the working folder is not on sys.path while the kernel starts (no fake ipykernel_launcher.py).
        argv = [sys.executable, "-I", "-m", "ipykernel_launcher", "-f", self.connection_file, *(extra_arguments or [])]
        return self._sandbox.wrap(argv, self._sandbox.work_dir)


def refusing_kernelspec(folder: Path) -> Path:
    """A Jupyter data folder whose "python3" kernel refuses to start (put it first on ``JUPYTER_PATH``)."""
    spec = folder / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": ["/bin/false", "unsandboxed kernels are refused while grading", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)", "language": "python"}))
    return folder


def font_cache(home: Path) -> None:
    """Put matplotlib's font list into ``home`` (built once here rather than by every kernel)."""
    import matplotlib.font_manager  # noqa: F401 (builds the cache if missing)
    from matplotlib import get_cachedir

    target = home / ".config" / "matplotlib"
    target.mkdir(parents=True, exist_ok=True)
    for f in Path(get_cachedir()).glob("fontlist-*.json"):
        shutil.copy(f, target / f.name)


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class SandboxedExecute(Execute):
    """nbgrader's ``Execute`` with the kernel in the sandbox. If the kernel dies, the notebook is
    still graded: the cell it died in and every later code cell get an error output (and score 0)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("kernel_manager_class", SandboxKernelManager)
        super().__init__(*args, **kwargs)

    def preprocess(self, nb: NotebookNode, resources: Any = None, km: Any = None) -> tuple[NotebookNode, Any]:
        self._died = False
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell: NotebookNode, resources: Any, index: int) -> tuple[NotebookNode, Any]:
        if cell.cell_type != "code" or not self._died:
            try:
                return super().preprocess_cell(cell, resources, index)
            except DeadKernelError:
                self._died = True
                cell.outputs.append(_error("DeadKernelError", "the kernel died while running this cell "
                                           "(memory or CPU cap, or the code stopped it)"))
                return cell, self.resources
        cell.outputs = [_error("DeadKernelError", "not run: the kernel died in an earlier cell")]
        return cell, self.resources
