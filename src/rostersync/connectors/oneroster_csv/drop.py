"""Drop folder: packages dropped into a folder are imported in order, one per sync, and filed.

A sender (an SIS export job, an SFTP upload) drops ``.zip`` packages or package folders into the
drop folder. Each sync takes the oldest pending one (by modification time, then name); when the
import has read it, it moves to ``processed/``, and when it cannot be imported to ``failed/`` —
each with ``<package>.report.json`` beside it saying what was found. Names starting with ``.``
and packages still being written (modified in the last ``settle_seconds``) are left alone.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rostersync import fsutil
from rostersync.errors import SourceUnreachable

PROCESSED = "processed"
FAILED = "failed"
#: A package modified more recently than this may still be arriving.
SETTLE_SECONDS = 2.0


@dataclass(frozen=True)
class DropFolder:
    """The drop folder of a OneRoster CSV source."""

    path: Path
    settle_seconds: float = SETTLE_SECONDS

    def check(self) -> None:
        """A clear error when the folder is missing or not writable."""
        if not self.path.is_dir():
            raise SourceUnreachable(
                f"The drop folder {self.path} does not exist",
                hint="create it, or correct connector.drop_folder",
            )
        for sub in (PROCESSED, FAILED):
            try:
                fsutil.private_dir(self.path / sub, narrow=False)
            except OSError as exc:
                raise SourceUnreachable(
                    f"The drop folder {self.path} is not writable ({exc.strerror or exc}): "
                    f"imported packages cannot be moved to {sub}/",
                    hint="let the user running rostersync write to it",
                ) from exc

    def pending(self) -> list[Path]:
        """Packages waiting, oldest first. An entry gone between listing and reading it (moved
        away by its sender, a dangling link) is not one."""
        self.check()
        now = time.time()
        found: list[tuple[float, str, Path]] = []
        for p in self.path.iterdir():
            if p.name.startswith(".") or p.name in (PROCESSED, FAILED):
                continue
            if p.suffix.lower() != ".zip" and not (p / "manifest.csv").is_file():
                continue
            try:
                mtime = p.stat().st_mtime
            except FileNotFoundError:
                continue
            if now - mtime >= self.settle_seconds:
                found.append((mtime, p.name, p))
        return [p for _, _, p in sorted(found)]

    def next_package(self) -> Path:
        """The oldest pending package; a clear error when none waits."""
        waiting = self.pending()
        if not waiting:
            raise SourceUnreachable(
                f"No new OneRoster CSV package in the drop folder {self.path}",
                hint="the next sync imports the next package dropped there",
            )
        return waiting[0]

    def file(self, package: Path, outcome: str, report: Mapping[str, Any]) -> Path:
        """Move ``package`` to ``processed/`` or ``failed/`` with its report; the new path.

        A name already taken there gets a numeric suffix: nothing is overwritten.
        """
        target_dir = self.path / outcome
        fsutil.private_dir(target_dir, narrow=False)
        target = target_dir / package.name
        n = 1
        while target.exists() or _report_path(target).exists():
            target = target_dir / f"{package.stem}.{n}{package.suffix}"
            n += 1
        shutil.move(str(package), str(target))
        text = json.dumps(dict(report), indent=2, sort_keys=True, default=str)
        fsutil.atomic_write(_report_path(target), text.encode("utf-8"))
        return target


def _report_path(package: Path) -> Path:
    return package.with_name(package.name + ".report.json")
