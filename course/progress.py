"""Where you stand: the points of your last ``make check`` of every notebook (``make progress``).

    python -m course.progress [--work work]

``make check`` keeps what each check found in ``work/feedback/progress.json``; this prints one row
per notebook of the course (module, notebook, points, last checked, what is left). A notebook never
checked shows as "not checked", so the table works before the first check. ``START_HERE.ipynb``
shows the same table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RECORD = Path("feedback") / "progress.json"  # inside the learner's work folder


def plural(n: float, word: str, many: str | None = None) -> str:
    """``1 point``, ``2 points``, ``0.5 points``: a number with its noun in the right form."""
    return f"{n:g} {word if n == 1 else (many or word + 's')}"


@dataclass
class NotebookPoints:
    """What a notebook is worth: autograded points and points of free-text answers."""

    module: str
    notebook: str
    auto: float = 0.0
    free: float = 0.0


@dataclass
class Check:
    """The outcome of one ``make check`` of one notebook, as kept in the progress record."""

    score: float
    auto: float
    free: float
    checked_at: str
    left: list[str] = field(default_factory=list)


def notebook_points(path: Path) -> tuple[float, float]:
    """(autograded points, free-text points) of a notebook, from its grading metadata."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path} is not a readable notebook: {exc}") from None
    auto = free = 0.0
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            if cell.get("cell_type") == "markdown":
                free += float(meta.get("points", 0))
            else:
                auto += float(meta.get("points", 0))
    return auto, free


def course_notebooks(release: Path) -> list[NotebookPoints]:
    """Every notebook of the course under ``release`` (``<module>/<notebook>.ipynb``), in order."""
    found = []
    for path in sorted(release.glob("*/*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        auto, free = notebook_points(path)
        found.append(NotebookPoints(path.parent.name, path.stem, auto, free))
    return found


def load(work: Path) -> dict[str, Check]:
    """The last check of each notebook (``module/notebook`` -> :class:`Check`); empty before any check."""
    path = work / RECORD
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {key: Check(**value) for key, value in data.get("notebooks", {}).items()}
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path} is damaged ({exc}); delete it and run `make check` again") from None


def record(work: Path, module: str, notebook: str, check: Check) -> Path:
    """Keep ``check`` as the last check of ``module/notebook`` (other notebooks' checks are kept)."""
    checks = load(work)
    checks[f"{module}/{notebook}"] = check
    path = work / RECORD
    path.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {"notebooks": {k: vars(v) for k, v in sorted(checks.items())}}
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path


def now() -> str:
    """The local time, to the minute, as the record keeps it."""
    return dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")


def rows(notebooks: list[NotebookPoints], checks: dict[str, Check]) -> list[tuple[str, str, str, str, str]]:
    """(module, notebook, points, last checked, what is left) for every notebook."""
    out = []
    for nb in notebooks:
        check = checks.get(f"{nb.module}/{nb.notebook}")
        free = f" + {plural(nb.free, 'free-text point')}" if nb.free else ""
        if check is None:
            out.append((nb.module, nb.notebook, f"? of {nb.auto:g}{free}", "not checked", "every question"))
            continue
        left = "; ".join(check.left) if check.left else "nothing: full marks"
        out.append((nb.module, nb.notebook, f"{check.score:g} of {check.auto:g}{free}", check.checked_at, left))
    return out


def table(work: Path, release: Path | None = None) -> str:
    """The progress table as text: every notebook of the course, checked or not."""
    release = release or (REPO / "release" if (REPO / "release").is_dir() else work)
    notebooks = course_notebooks(release)
    if not notebooks:
        raise ValueError(f"no notebooks in {release}/<module>/: run `make lab` first")
    checks = load(work)
    header = ("module", "notebook", "points", "last checked", "what is left")
    body = rows(notebooks, checks)
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(4)]
    lines = ["  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4] for r in [header, *body]]
    lines.insert(1, "-" * (sum(widths) + 8 + len(header[4])))
    done = sum(1 for nb in notebooks if f"{nb.module}/{nb.notebook}" in checks)
    earned = sum(checks[f"{nb.module}/{nb.notebook}"].score for nb in notebooks
                 if f"{nb.module}/{nb.notebook}" in checks)
    total = sum(nb.auto for nb in notebooks)
    lines.append(f"\n{done} of {plural(len(notebooks), 'notebook')} checked; autograded points so far: "
                 f"{earned:g} of {total:g}. Check one with `make check NOTEBOOK=<name>`.")
    return "\n".join(lines)


def show_progress(work: Path | str | None = None) -> None:
    """Print the progress table (in a notebook, ``work`` defaults to the notebook's own folder)."""
    print(table(Path(work) if work is not None else Path.cwd()))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m course.progress", description=__doc__.split("\n\n")[0])
    p.add_argument("--work", type=Path, default=Path("work"), help="your notebooks (default: work)")
    p.add_argument("--release", type=Path, default=None, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    try:
        print(table(a.work, a.release))
    except ValueError as exc:
        print(f"error: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
