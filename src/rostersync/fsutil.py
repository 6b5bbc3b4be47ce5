"""Files the installation writes are private: directories 0700, files 0600, written atomically.

The database, the secret key, run reports and exports hold pupils' data or keys; a umask of 022
would leave them readable by every local user. These helpers set the mode at creation (not after,
so there is no window in which the file is readable) and replace files atomically (a reader sees
the old content or the new, never half of it).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) as 0700; an existing directory is narrowed to 0700.

    Existing parents are left as they are: they may be shared directories such as ``/var/lib``.
    """
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    if (path.stat().st_mode & 0o777) != PRIVATE_DIR:
        with contextlib.suppress(PermissionError):  # not ours to change: leave it
            path.chmod(PRIVATE_DIR)
    return path


def private_file(path: Path) -> None:
    """Make sure ``path`` exists and is 0600 (created empty when missing)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE)
    os.close(fd)
    if (path.stat().st_mode & 0o777) != PRIVATE_FILE:
        path.chmod(PRIVATE_FILE)


def open_private(path: Path, mode: str = "w", **kwargs: object) -> object:
    """Open ``path`` for writing as a 0600 file (created so, or narrowed to it)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(path, flags, PRIVATE_FILE)
    os.fchmod(fd, PRIVATE_FILE)
    return os.fdopen(fd, mode, **kwargs)  # type: ignore[call-overload]


def atomic_write(path: Path, data: bytes | str, *, encoding: str = "utf-8") -> Path:
    """Write ``data`` to ``path`` as a 0600 file, replacing any previous file atomically."""
    payload = data.encode(encoding) if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    os.replace(tmp, path)
    return path


def create_exclusive(path: Path, data: bytes | str, *, encoding: str = "utf-8") -> bool:
    """Create ``path`` as a 0600 file holding ``data``; False when it already exists.

    For keys generated on first use: when two processes race, one wins and the other reads it.
    The content is written to a temporary file first and linked into place, so the loser never
    reads a half-written key.
    """
    payload = data.encode(encoding) if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{os.getpid()}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
        os.write(fd, payload)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)
    return True
