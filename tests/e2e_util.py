"""Helpers for the end-to-end tests: a class of real Unix accounts and a JupyterHub started from
``deploy/jupyterhub/jupyterhub_config.py``, driven over HTTP on 127.0.0.1.

The tests skip (with the reason) when a prerequisite is missing on a developer's machine, and
fail instead when the environment variable CI is true: there, ``.ci/install-e2e`` provides them.
Everything made here (accounts, group, folders, processes) is removed again by ``close()``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DEPLOY = REPO / "deploy" / "jupyterhub"
COURSE_ID = "genai-llm-fm"
CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def output_dir(test: str) -> Path:
    """Where a test keeps what a person may want to look at afterwards (logs, screenshots)."""
    folder = Path(os.environ.get("COURSE_TEST_OUTPUT", REPO / ".scratch" / "test-output")) / test
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# --- prerequisites ---------------------------------------------------------------------------

def _missing_hub() -> list[str]:
    missing = []
    if sys.platform != "linux" or os.geteuid() != 0:
        missing.append("root on Linux (the test creates Unix accounts)")
    for tool in ("useradd", "userdel", "groupadd", "groupdel", "runuser", "chpasswd", "setfacl"):
        if shutil.which(tool) is None:
            missing.append(f"`{tool}`")
    if shutil.which("configurable-http-proxy", path=_hub_path()) is None:
        missing.append("configurable-http-proxy (npm install -g configurable-http-proxy)")
    if not (BIN / "jupyterhub").exists():
        missing.append("jupyterhub in the test environment (pip)")
    return missing


def require_hub() -> None:
    _need(_missing_hub())


def require_browser() -> None:
    missing = _missing_hub()
    if not os.access(CHROMIUM, os.X_OK):
        missing.append(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright (pip)")
    _need(missing)


def _need(missing: list[str]) -> None:
    if not missing:
        return
    reason = "end-to-end prerequisites missing: " + "; ".join(missing) + " (bash .ci/install-e2e installs them)"
    if IN_CI:
        pytest.fail(reason + " -- CI must run this test, not skip it", pytrace=False)
    pytest.skip(reason)


def _hub_path() -> str:
    return os.pathsep.join([str(BIN), os.environ.get("PATH", ""), "/usr/local/bin", "/usr/bin", "/bin"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*cmd: str, check: bool = True, timeout: float = 120, **kw: Any) -> subprocess.CompletedProcess:
    proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def as_user(user: str, *cmd: str, check: bool = False, timeout: float = 120,
            bin_dir: Path = BIN) -> subprocess.CompletedProcess:
    """Run a command as a Unix account, with the course's environment (``bin_dir``) first on PATH."""
    env_path = os.pathsep.join([str(bin_dir), "/usr/local/bin", "/usr/bin", "/bin"])
    return run("runuser", "-u", user, "--", "env", f"PATH={env_path}", *cmd, check=check, timeout=timeout)


# --- the class: Unix accounts, exchange, the instructor's course folder ------------------------

class Classroom:
    """One instructor and ``n_students`` students as real Unix accounts (names ``gc-<tag>-...``),
    set up as deploy/jupyterhub/README.md says: the course installed for everyone without its
    solutions by ``install-course.sh`` (into ``prefix``), the class by ``setup-class.sh``.

    The clone this test runs from holds ``source/``; it stands in for the administrator's root-only
    clone, so the students' accounts are denied it (an ACL entry each)."""

    def __init__(self, n_students: int):
        self.tag = secrets.token_hex(2)
        self.instructor = f"gc-{self.tag}-teach"
        self.students = [f"gc-{self.tag}-s{i}" for i in range(1, n_students + 1)]
        self.group = f"gc-{self.tag}-class"
        self.passwords = {u: secrets.token_urlsafe(12) for u in self.users}
        self.base = Path(tempfile.mkdtemp(prefix=f"gc-{self.tag}-", dir="/tmp"))
        self.base.chmod(0o755)
        # files whose inode changed from here on (made, written, chmod-ed) are the deployment's doing
        self.started = self.base.stat().st_ctime
        self.homes = self.base / "home"
        self.exchange = self.base / "exchange"
        self.state = self.base / "hub"
        self.prefix = self.base / "opt"  # where install-course.sh puts what every account may read
        self.bin = self.prefix / ".venv" / "bin"
        self.deploy = self.prefix / "deploy" / "jupyterhub"
        self._acl: list[tuple[Path, str]] = []
        self._created: list[str] = []

    @property
    def users(self) -> list[str]:
        return [self.instructor, *self.students]

    def home(self, user: str) -> Path:
        return self.homes / user

    @property
    def course_dir(self) -> Path:
        return self.home(self.instructor) / COURSE_ID

    def create(self) -> None:
        self.homes.mkdir(mode=0o755)
        run("groupadd", self.group)
        for user in self.users:
            extra = ["-G", self.group] if user in self.students else []
            # useradd may leave a home folder world-readable; setup-class.sh must close it
            run("useradd", "-m", "-d", str(self.home(user)), "-s", "/bin/bash", "-K", "HOME_MODE=0755", *extra, user)
            self._created.append(user)
        run("chpasswd", input="".join(f"{u}:{p}\n" for u, p in self.passwords.items()))
        self.install_course()
        # the interpreter the environment was made from (e.g. a pyenv in /root)
        self._grant_traverse(Path(os.path.realpath(sys.executable)).parent)
        # the clone holds the solutions: no student may open it (as on a real server, where it is root's)
        for user in self.students:
            run("setfacl", "-m", f"u:{user}:---", str(REPO))
            self._acl.append((REPO, user))
        setup = run("bash", str(self.deploy / "setup-class.sh"), self.instructor, self.group, str(self.exchange), COURSE_ID)
        self.setup_log = setup.stdout
        # The instructor's course folder: what a clone of the repository holds for nbgrader.
        self.course_dir.mkdir()
        shutil.copy(REPO / "nbgrader_config.py", self.course_dir)
        if (REPO / "autotests.yml").exists():
            shutil.copy(REPO / "autotests.yml", self.course_dir)
        shutil.copytree(REPO / "source" / "00_orientation", self.course_dir / "source" / "00_orientation",
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        run("chown", "-R", f"{self.instructor}:", str(self.course_dir))
        probe = self.as_user(self.students[0], "python", "-c", "import course, nbgrader, jupyterhub")
        assert probe.returncode == 0, f"a student cannot use the course's environment:\n{probe.stderr}"

    def as_user(self, user: str, *cmd: str, check: bool = False, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run a command as one of the accounts, with the installed course's environment on PATH."""
        return as_user(user, *cmd, check=check, timeout=timeout, bin_dir=self.bin)

    def install_course(self) -> None:
        """``install-course.sh`` into ``prefix``. To save the download, its environment is first seeded
        with this test environment's packages (hard links where the file system allows); the script
        then installs the course package itself as a copy and checks that no solution came along."""
        base_python = os.path.realpath(sys.executable)
        venv = self.prefix / ".venv"
        run(base_python, "-m", "venv", "--without-pip", str(venv))
        site = f"lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages"
        # the packages, and what they install beside them (Jupyter's extension settings, JupyterLab's extensions)
        for sub in (site, "etc", "share"):
            seed = Path(sys.prefix) / sub
            if not seed.is_dir():
                continue
            (venv / sub).mkdir(parents=True, exist_ok=True)
            if run("cp", "-al", f"{seed}/.", str(venv / sub), check=False).returncode != 0:
                run("cp", "-a", f"{seed}/.", str(venv / sub), timeout=600)
        old = f"#!{Path(sys.prefix) / 'bin' / 'python'}".encode()
        for script in (Path(sys.prefix) / "bin").iterdir():
            target = venv / "bin" / script.name
            if target.exists() or script.is_symlink() or not script.is_file():
                continue
            data = script.read_bytes()
            if data.startswith(old + b"\n") or data.startswith(old + b"3\n"):
                data = f"#!{venv / 'bin' / 'python'}".encode() + data[data.index(b"\n"):]
            target.write_bytes(data)
            target.chmod(0o755)
        out = run("bash", str(DEPLOY / "install-course.sh"), str(self.prefix), timeout=900,
                  env=os.environ | {"PYTHON": base_python})
        self.install_log = out.stdout + out.stderr

    def _grant_traverse(self, path: Path) -> None:
        """The accounts must reach the course's .venv: where a folder above it is closed to
        others (e.g. a clone in /root), open it to these accounts only, with an ACL."""
        for folder in [*reversed(path.parents), path]:
            if folder.stat().st_mode & 0o001 or any(f == folder for f, _ in self._acl):
                continue
            for user in self.users:
                run("setfacl", "-m", f"u:{user}:x", str(folder))
                self._acl.append((folder, user))

    def kill_processes(self) -> None:
        """Stop whatever still runs under the test's accounts (by process id)."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            pids = []
            for user in self._created:
                out = run("ps", "-o", "pid=", "-u", user, check=False).stdout
                pids += [int(p) for p in out.split()]
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            if not pids:
                return
            time.sleep(2)

    def close(self) -> None:
        self.kill_processes()
        for folder, user in self._acl:
            run("setfacl", "-x", f"u:{user}", str(folder), check=False)
        for user in self._created:
            run("userdel", "-r", "-f", user, check=False)
        run("groupdel", self.group, check=False)
        shutil.rmtree(self.base, ignore_errors=True)


# --- the hub -------------------------------------------------------------------------------

class Hub:
    """JupyterHub from the course's deploy config, on free ports of 127.0.0.1, with a service
    token for the test (the role of a script an administrator would run)."""

    def __init__(self, klass: Classroom, log_dir: Path):
        self.klass = klass
        self.port, self.hub_port, self.api_port = free_port(), free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.service_token = secrets.token_hex(24)
        self.log_path = log_dir / "jupyterhub.log"
        self.proc: subprocess.Popen | None = None
        self.tokens: dict[str, str] = {}

    def start(self, timeout: float = 90) -> None:
        k = self.klass
        k.state.mkdir(mode=0o700, exist_ok=True)
        config = k.state / "test_config.py"
        config.write_text(
            "c = get_config()\n"
            f"load_subconfig({str(k.deploy / 'jupyterhub_config.py')!r})\n"
            f"c.JupyterHub.hub_bind_url = 'http://127.0.0.1:{self.hub_port}'\n"
            f"c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:{self.api_port}'\n"
            "c.JupyterHub.services = [{'name': 'course-test', 'api_token': %r}]\n"
            "c.JupyterHub.load_roles = [{'name': 'course-test', 'services': ['course-test'],\n"
            "    'scopes': ['admin:users', 'admin:servers', 'tokens', 'access:servers', 'read:users']}]\n"
            % self.service_token
        )
        env = os.environ | {
            "PATH": _hub_path(),
            "COURSE_HUB_INSTRUCTOR": k.instructor,
            "COURSE_HUB_STUDENTS": k.group,
            "COURSE_HUB_COURSE_DIR": str(k.course_dir),
            "COURSE_HUB_EXCHANGE": str(k.exchange),
            "COURSE_HUB_STATE": str(k.state),
            "COURSE_HUB_BIND_URL": self.url,
        }
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen([str(k.bin / "jupyterhub"), "-f", str(config)], cwd=k.state, env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"JupyterHub exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                status, _ = self.api("GET", "/hub/api/", timeout=5)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"JupyterHub did not answer within {timeout} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 30) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # the hub stops the servers and its proxy
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        if self.proc:
            try:  # the proxy shares the hub's process group; make sure nothing is left behind
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._log.close()

    # HTTP -----------------------------------------------------------------------------------
    def api(self, method: str, path: str, token: str | None = None, data: dict | None = None,
            body: Any = None, timeout: float = 180) -> tuple[int, Any]:
        """One request through the proxy; returns (status, parsed JSON or text)."""
        headers = {"Authorization": f"token {token or self.service_token}"}
        payload = None
        if data is not None:
            payload = urllib.parse.urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=payload, method=method, headers=headers)
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(req, timeout=timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        text = raw.decode(errors="replace")
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    def ok(self, method: str, path: str, token: str | None = None, **kw: Any) -> Any:
        status, out = self.api(method, path, token, **kw)
        assert 200 <= status < 300, f"{method} {path}: HTTP {status}: {str(out)[:2000]}\n--- hub log:\n{self.log_tail()}"
        return out

    def token(self, user: str) -> str:
        if user not in self.tokens:
            out = self.ok("POST", f"/hub/api/users/{user}/tokens", body={"note": "course end-to-end test"})
            self.tokens[user] = out["token"]
        return self.tokens[user]

    def add_user(self, user: str) -> None:
        """Students are allowed by their Unix group and known to the hub from their first
        login; the test adds them through the API instead of logging in."""
        status, out = self.api("POST", f"/hub/api/users/{user}")
        assert status in (201, 409), f"adding {user}: HTTP {status} {out}"

    def spawn(self, user: str, timeout: float = 150) -> None:
        self.add_user(user)
        status, out = self.api("POST", f"/hub/api/users/{user}/server")
        assert status in (201, 202, 400), f"spawning {user}: HTTP {status} {out}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            model = self.ok("GET", f"/hub/api/users/{user}")
            server = (model.get("servers") or {}).get("")
            if server and server.get("ready"):
                return
            if not model.get("pending") and not server and status != 202:
                break
            time.sleep(1)
        raise AssertionError(f"the server of {user} did not start within {timeout} s:\n{self.log_tail()}")

    def user_api(self, user: str, method: str, path: str, as_user: str | None = None, **kw: Any) -> tuple[int, Any]:
        """A request to ``user``'s own server, authenticated as ``as_user`` (default: ``user``)."""
        return self.api(method, f"/user/{user}{path}", self.token(as_user or user), **kw)

    def user_ok(self, user: str, method: str, path: str, **kw: Any) -> Any:
        status, out = self.user_api(user, method, path, **kw)
        assert 200 <= status < 300, f"{user}: {method} {path}: HTTP {status}: {str(out)[:2000]}"
        return out


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirect (e.g. to a login page) is an answer too
        return None
