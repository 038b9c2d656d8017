"""The learner's working copies: ``python -m course.workspace release work`` (run by ``make lab``).

Copies every file of the published notebooks (``release/``) that is not yet in the learner's
folder, and never touches a file that is already there: answers survive ``git pull`` and a second
``make lab``. Plain Python, so it behaves the same with every version of GNU coreutils, on macOS
and on Windows (``cp -n`` exits 1 when it skips a file on coreutils 9.2 to 9.4).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

SKIPPED_PARTS = {".ipynb_checkpoints", "__pycache__"}


def copy_missing(source: Path, target: Path) -> list[Path]:
    """Copy the files under ``source`` that do not exist under ``target`` yet; return the ones copied.

    Files already in ``target`` are left exactly as they are, whatever their content or age.
    """
    source, target = Path(source), Path(target)
    if not source.is_dir():
        raise FileNotFoundError(f"{source} is not a folder: run this from the course folder (it holds release/).")
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(f"{target} exists but is not a folder: move it away and try again.")
    copied: list[Path] = []
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if not path.is_file() or SKIPPED_PARTS & set(relative.parts):
            continue
        destination = target / relative
        if destination.exists():
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)
        copied.append(relative)
    return copied


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m course.workspace SOURCE TARGET   (e.g. release work)", file=sys.stderr)
        return 2
    try:
        copied = copy_missing(Path(args[0]), Path(args[1]))
    except (FileNotFoundError, NotADirectoryError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if copied:
        print(f"Copied {len(copied)} new file(s) into {args[1]}/: " + ", ".join(map(str, copied)))
    else:
        print(f"{args[1]}/ already has every notebook; your copies are unchanged.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
