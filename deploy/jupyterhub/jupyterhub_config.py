"""JupyterHub for one class of this course on one Linux server: one instructor, many students.

Every person is a local Unix account and logs in with its password (PAM). Each one gets a
JupyterLab of their own, running as their own account, with the course's packages (the
folder ``.venv`` of the installation this file belongs to, made by ``install-course.sh``, which
holds no solutions). Assignments move between the
instructor and the students through nbgrader's exchange, a shared folder on this server.
Only the instructor's server has the formgrader.

Start it as root from anywhere: ``jupyterhub -f /opt/genai-llm-fm/deploy/jupyterhub/jupyterhub_config.py``
(see README.md in this folder for the whole setup). Settings, all from the environment:

    COURSE_HUB_INSTRUCTOR   the instructor's Unix account                    (default: instructor)
    COURSE_HUB_STUDENTS     the Unix group of the students' accounts          (default: genai-students)
    COURSE_HUB_COURSE_DIR   the instructor's course folder (a clone of this repository)
                                                                              (default: ~INSTRUCTOR/genai-llm-fm)
    COURSE_HUB_EXCHANGE     nbgrader's exchange folder                        (default: /srv/nbgrader/exchange)
    COURSE_HUB_STATE        the hub's own database and cookie secret          (default: /srv/jupyterhub)
    COURSE_HUB_BIND_URL     where the hub listens                             (default: http://127.0.0.1:8000)
    COURSE_HUB_SUBDOMAIN_HOST  optional, e.g. https://hub.example.edu: every user gets a
                            subdomain (needs wildcard DNS and certificate), and the formgrader
                            can then also open inside JupyterLab (see README.md)
"""

import os
import pwd
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
VENV_BIN = REPO / ".venv" / "bin"

INSTRUCTOR = os.environ.get("COURSE_HUB_INSTRUCTOR", "instructor")
STUDENTS_GROUP = os.environ.get("COURSE_HUB_STUDENTS", "genai-students")
EXCHANGE = os.environ.get("COURSE_HUB_EXCHANGE", "/srv/nbgrader/exchange")
STATE = Path(os.environ.get("COURSE_HUB_STATE", "/srv/jupyterhub"))
SUBDOMAIN_HOST = os.environ.get("COURSE_HUB_SUBDOMAIN_HOST", "")


def _course_dir() -> str:
    if os.environ.get("COURSE_HUB_COURSE_DIR"):
        return os.environ["COURSE_HUB_COURSE_DIR"]
    try:
        return os.path.join(pwd.getpwnam(INSTRUCTOR).pw_dir, "genai-llm-fm")
    except KeyError:
        sys.exit(f"jupyterhub_config.py: the instructor account {INSTRUCTOR!r} does not exist "
                 "(set COURSE_HUB_INSTRUCTOR)")


COURSE_DIR = _course_dir()

# --- the hub ---------------------------------------------------------------------------
c.JupyterHub.bind_url = os.environ.get("COURSE_HUB_BIND_URL", "http://127.0.0.1:8000")
STATE.mkdir(mode=0o700, parents=True, exist_ok=True)
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")
if SUBDOMAIN_HOST:
    c.JupyterHub.subdomain_host = SUBDOMAIN_HOST

# --- who may log in: the instructor and the members of the students' Unix group ------------
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = {INSTRUCTOR}
c.PAMAuthenticator.allowed_groups = {STUDENTS_GROUP}
# Nobody is a hub admin by default: an admin could open every student's server. Add the
# instructor here if you want that (e.g. to stop a student's runaway server from the hub page).
c.Authenticator.admin_users = set()
# Accounts are made with the operating system's tools (adduser), never by the hub.
c.LocalAuthenticator.create_system_users = False

# --- each person's JupyterLab: the course's environment, running as that person -------------
c.Spawner.cmd = [str(VENV_BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.environment = {
    # nbgrader runs `alembic` and the kernel from PATH: the course's environment comes first
    "PATH": os.pathsep.join([str(VENV_BIN), "/usr/local/bin", "/usr/bin", "/bin"]),
    "COURSE_EXCHANGE": EXCHANGE,
    "COURSE_REPO": str(REPO),
    "COURSE_DIR": COURSE_DIR,
}
# A notebook of this course needs well under 1 GB; the limits only apply with a spawner
# that enforces them (e.g. systemdspawner), LocalProcessSpawner only reports them.
c.Spawner.mem_limit = "2G"
# Starting JupyterLab with the course's packages takes a few seconds; allow for a busy server.
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
# Idle servers keep memory: stop them with jupyterhub-idle-culler (see README.md).


def _pre_spawn(spawner) -> None:
    """Instructor and students differ only in which Jupyter configuration folder comes first:
    the students' one switches the formgrader (and course list, create-assignment) off."""
    role = "instructor" if spawner.user.name == INSTRUCTOR else "student"
    spawner.environment = dict(spawner.environment, JUPYTER_CONFIG_PATH=str(HERE / role))
    if SUBDOMAIN_HOST:
        # read by instructor/jupyter_server_config.py: the formgrader may open inside JupyterLab
        spawner.environment["COURSE_HUB_SUBDOMAINS"] = "1"


c.Spawner.pre_spawn_hook = _pre_spawn
