"""Watched configuration files: a district's YAML edited on disk is its configuration at the
scheduler's next tick, without a manual sync.

The scheduler polls each watched file's modification time and size every tick (cheap). A
changed file is read and validated whole; a valid one is saved as the district's new
configuration version when it differs from the latest (the district is created on first use),
audited as ``config.saved_from_file``, and the scheduler's reload picks its ``sync_schedule`` up
in the same tick. An invalid file changes nothing: the problem, with the file and every path, is
logged (and kept in :attr:`ConfigWatch.problems`), and the previous configuration keeps running.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rostersync.config import load_config
from rostersync.errors import ConfigurationError, RostersyncError
from rostersync.logs import get_logger
from rostersync.store import Store
from rostersync.sync.run import ensure_district, save_config

log = get_logger("schedule.watch")


@dataclass(frozen=True)
class WatchProblem:
    """A watched file that could not be taken as a configuration."""

    path: str
    message: str


class ConfigWatch:
    """District configuration files whose edits become new configuration versions."""

    def __init__(self, store: Store, paths: Iterable[str | Path]) -> None:
        self.store = store
        self.paths = [Path(p) for p in paths]
        self._seen: dict[Path, tuple[int, int] | None] = {}
        self.problems: dict[Path, WatchProblem] = {}

    def _stamp(self, path: Path) -> tuple[int, int] | None:
        try:
            info = path.stat()
        except OSError:
            return None
        return (info.st_mtime_ns, info.st_size)

    def poll(self) -> list[int]:
        """Read the files that changed since the last poll; the districts given a new version."""
        saved: list[int] = []
        for path in self.paths:
            stamp = self._stamp(path)
            if path in self._seen and self._seen[path] == stamp:
                continue
            self._seen[path] = stamp
            if stamp is None:
                self._problem(path, "the file cannot be read (missing or not accessible)")
                continue
            district_id = self._apply(path)
            if district_id is not None:
                saved.append(district_id)
        return saved

    def _apply(self, path: Path) -> int | None:
        try:
            config = load_config(path)
        except ConfigurationError as exc:
            self._problem(path, str(exc))
            return None
        self.problems.pop(path, None)
        district_id = ensure_district(self.store, config)
        try:
            before = self.store.get_config_version(district_id)[0]
        except RostersyncError:  # no version yet
            before = None
        version = save_config(self.store, district_id, config, f"file:{path}")
        if version == before:
            return None
        self.store.audit(
            "scheduler",
            "config.saved_from_file",
            district_id,
            path=str(path),
            version=version,
        )
        log.info("configuration file saved", path=str(path), district=config.district)
        return district_id

    def _problem(self, path: Path, message: str) -> None:
        self.problems[path] = WatchProblem(str(path), message)
        log.error(
            "watched configuration not taken; the previous one stays",
            path=str(path),
            problem=message.splitlines()[0],
        )
