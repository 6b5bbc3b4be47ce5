"""Files the installation writes are private: directories 0700, files 0600, written atomically.

The database, the secret key, run reports and exports hold pupils' data or keys; a umask of 022
would leave them readable by every local user. These helpers set the mode at creation (not after,
so there is no window in which the file is readable) and replace files atomically (a reader sees
the old content or the new, never half of it).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path, *, narrow: bool = True) -> Path:
    """Create ``path`` and its missing parents as 0700.

    An existing ``path`` is narrowed to 0700 when ``narrow`` (directories rostersync owns, such
    as a run's report directory); pass False for a directory the admin chose, which may be
    shared on purpose. Existing parents are never changed.
    """
    missing = []
    for candidate in (path, *path.parents):
        if candidate.exists():
            break
        missing.append(candidate)
    for directory in reversed(missing):  # mkdir(parents=True) would give parents the umask
        directory.mkdir(mode=PRIVATE_DIR, exist_ok=True)
    if not path.is_dir():
        path.mkdir(mode=PRIVATE_DIR)  # a file in the way: the error names it
    if narrow:
        make_private(path, PRIVATE_DIR)
    return path


def make_private(path: Path, mode: int = PRIVATE_FILE) -> None:
    """Narrow ``path`` to ``mode`` when it is wider; a file of another user (or none) is left
    alone."""
    try:
        if path.stat().st_mode & 0o777 & ~mode:
            path.chmod(mode)
    except OSError:
        pass


def narrow_files(directory: Path) -> None:
    """Make every file directly in ``directory`` 0600 (files a library wrote with the umask).

    Called on a directory that is already 0700, so no other user could open them meanwhile.
    """
    for child in directory.iterdir():
        if child.is_file():
            make_private(child)


def _private_temp(path: Path, payload: bytes, suffix: str) -> Path:
    """Write ``payload`` to a new 0600 file beside ``path``, synced; removed again on failure."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.{suffix}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
        view = memoryview(payload)
        while view:  # os.write may write less than asked
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    return tmp


def atomic_write(path: Path, data: bytes | str, *, encoding: str = "utf-8") -> Path:
    """Write ``data`` to ``path`` as a 0600 file, replacing any previous file atomically."""
    payload = data.encode(encoding) if isinstance(data, str) else data
    os.replace(_private_temp(path, payload, "tmp"), path)
    return path


def create_exclusive(path: Path, data: bytes | str, *, encoding: str = "utf-8") -> bool:
    """Create ``path`` as a 0600 file holding ``data``; False when it already exists.

    For keys generated on first use: when two processes race, one wins and the other reads it.
    The content is written to a temporary file first and linked into place, so the loser never
    reads a half-written key.
    """
    payload = data.encode(encoding) if isinstance(data, str) else data
    tmp = _private_temp(path, payload, "new")
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)
    return True
