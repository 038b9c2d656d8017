"""Files that a student's kernel or a submission could have made, handled without trusting them.

Everything outside the sandbox that reads what a student made goes through here: nothing follows a
symbolic link, opens a FIFO or a device, or reads without a size limit. The grader never writes into,
changes the mode of, or follows anything a kernel could have created (docs/grading.md, "The boundary").
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path

#: The largest executed notebook the grader reads back (a notebook with its outputs; nbgrader limits output).
MAX_NOTEBOOK_BYTES = 64 * 2**20


class UnsafeFile(Exception):
    """A path is not a plain regular file within the size limit (the message says what it is)."""


def describe(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a regular file" if stat.S_ISREG(mode) else "a special file"


def read_regular(path: Path, limit: int = MAX_NOTEBOOK_BYTES) -> bytes:
    """The bytes of ``path`` if it is a regular file with one link and at most ``limit`` bytes.

    Opened with ``O_NOFOLLOW | O_NONBLOCK`` (a link is refused, a FIFO does not block) and checked on the
    open descriptor, so the file cannot be swapped between the check and the read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        kind = describe(os.lstat(path).st_mode) if os.path.lexists(path) else "missing"
        raise UnsafeFile(f"{path.name} is {kind} ({exc.strerror})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeFile(f"{path.name} is {describe(st.st_mode)}, not a regular file")
        if st.st_nlink != 1:
            raise UnsafeFile(f"{path.name} has {st.st_nlink} hard links")
        if st.st_size > limit:
            raise UnsafeFile(f"{path.name} is {st.st_size} bytes, over the limit of {limit}")
        chunks, size = [], 0
        while chunk := os.read(fd, 1 << 20):
            size += len(chunk)
            if size > limit:
                raise UnsafeFile(f"{path.name} grew over the limit of {limit} bytes while it was read")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def copy_regular_files(src: Path, dest: Path, blank: tuple[str, ...] = ()) -> list[str]:
    """Copy the regular files of ``src`` into ``dest`` (made anew); returns what was left out (links, FIFOs...).

    Files whose name ends with one of ``blank`` are created empty instead of copied.
    """
    dropped = []
    dest.mkdir(parents=True, exist_ok=True)
    for dirpath, dirnames, filenames in os.walk(src):  # os.walk never descends into linked folders
        here = Path(dirpath)
        rel_dir = here.relative_to(src)
        for name in sorted(dirnames + filenames):
            path = here / name
            mode = os.lstat(path).st_mode
            if stat.S_ISDIR(mode):
                (dest / rel_dir / name).mkdir(exist_ok=True)
            elif not stat.S_ISREG(mode):
                dropped.append(str(rel_dir / name))
                if name in dirnames:
                    dirnames.remove(name)
            elif blank and name.endswith(blank):
                (dest / rel_dir / name).write_bytes(b"")
            else:
                try:
                    (dest / rel_dir / name).write_bytes(read_regular(path, limit=2**31))
                except UnsafeFile as exc:
                    dropped.append(f"{rel_dir / name} ({exc})")
    return dropped


def planted(folder: Path) -> list[str]:
    """What in ``folder`` is not a plain file or folder (links, FIFOs, sockets, devices, hard links), and
    folders named like a notebook (made to stand where a graded notebook would be written).

    Used on a kernel's working folder after it ran: a kernel has no reason to make any of these, and
    one that did was trying to steer a write outside its sandbox (the grader never follows them).
    """
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in sorted(dirnames + filenames):
            path = Path(dirpath) / name
            st = os.lstat(path)
            rel = path.relative_to(folder)
            if stat.S_ISLNK(st.st_mode):
                found.append(f"{rel} (a symbolic link to {os.readlink(path)})")
            elif stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
                found.append(f"{rel} (a hard link)")
            elif stat.S_ISDIR(st.st_mode) and name.endswith(".ipynb"):
                found.append(f"{rel} (a folder named like a notebook)")
            elif not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
                found.append(f"{rel} ({describe(st.st_mode)})")
    return found


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def remove_tree(path: Path) -> None:
    """Remove a folder a kernel wrote in (``shutil.rmtree`` never follows links on Linux)."""
    shutil.rmtree(path, ignore_errors=True)
