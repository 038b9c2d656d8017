"""The reference a grading run scores against: the observations of the instructor's own notebooks.

They are recorded by executing ``source/<assignment>/`` (solutions in place) in the sandbox, exactly like a
submission, and kept in ``.scratch/grading-reference/`` under a key that covers everything a correct
solution's values depend on: the instructor's notebooks, every file of the ``course`` package (its
helpers and shipped weights), ``nbgrader_config.py``, and the versions of Python, torch, numpy, nbgrader
and ipykernel. Change any of them and the reference is recorded again. It never enters a learner's kernel.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import course

Reference = dict[str, dict[str, list[dict]]]  # notebook -> grade_id -> observation payloads
VERSIONED = ("torch", "numpy", "nbgrader", "ipykernel", "nbclient")


def _versions() -> str:
    found = [f"python {platform.python_version()} {platform.machine()}"]
    for package in VERSIONED:
        try:
            found.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            found.append(f"{package} missing")
    return "\n".join(found)


def key(root: Path, assignment: str, names: list[str], package: Path | None = None) -> str:
    """A short hash of everything the reference depends on (see the module's docstring)."""
    package = package or Path(course.__file__).resolve().parent
    h = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        h.update(f"{label}\0{len(data)}\0".encode())
        h.update(data)

    for name in names:
        add(f"source/{name}", (root / "source" / assignment / f"{name}.ipynb").read_bytes())
    for path in sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        add(f"course/{path.relative_to(package).as_posix()}", path.read_bytes())
    add("nbgrader_config.py", (root / "nbgrader_config.py").read_bytes())
    add("versions", _versions().encode())
    return h.hexdigest()[:16]


def load_or_record(cache: Path, record: Callable[[], Reference]) -> Reference:
    """The cached reference at ``cache`` (a JSON file named by :func:`key`), or ``record()`` it and keep it."""
    if cache.is_file():
        return json.loads(cache.read_text())
    recorded = record()
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    tmp.write_text(json.dumps(recorded))
    tmp.replace(cache)
    return recorded
