"""The synthetic district: PowerSchool's raw tables (Polars), its ground truth, and its days.

A :class:`District` is what the simulator serves. Its tables are named and shaped like the
PowerSchool tables behind the API (lower-case names and columns: ``students``, ``cc``,
``schoolstaff``, ``u_def_ext_students``…). Ground truth for tests of other areas:

- :meth:`District.counts` — rows per table and per v1 resource;
- :attr:`District.duplicates` — students entered twice (``dcid`` → ``duplicate_of``);
- :meth:`District.changes_since` — what each day changed (``day, table, action, key``).

:meth:`District.renumber_students` gives a school's students new IDs overnight (a re-import).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from rostersync.errors import ConfigurationError

from . import _days, _generate, _renumber

GENERATOR_VERSION = 1
CHANGE_SCHEMA: dict[str, pl.DataType] = {
    "day": pl.Int64(),
    "table": pl.Utf8(),
    "action": pl.Utf8(),
    "key": pl.Int64(),
    "what": pl.Utf8(),
}


@dataclass
class District:
    """A synthetic district on a given day: raw PowerSchool tables plus ground truth."""

    size: str
    seed: int
    students_requested: int | None
    day: int
    tables: dict[str, pl.DataFrame]
    duplicates: pl.DataFrame
    changes: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=CHANGE_SCHEMA))
    name: str = "Rostersync Demo School District"
    #: Bumped on every write or day change, so cached pages are never stale.
    revision: int = 0

    def __getitem__(self, table: str) -> pl.DataFrame:
        return self.tables[table]

    @property
    def date(self) -> dt.date:
        """The calendar date of the district's current day."""
        return _generate.BASE_DATE + dt.timedelta(days=self.day)

    @property
    def student_count(self) -> int:
        """Rows in STUDENTS (every enrollment status)."""
        return self.tables["students"].height

    def counts(self) -> dict[str, int]:
        """Rows per table, plus the v1 view: real schools and active students."""
        out = {name: frame.height for name, frame in self.tables.items()}
        out["v1_schools"] = self.tables["schools"].height - 1
        out["active_students"] = self.tables["students"].filter(pl.col("enroll_status") == 0).height
        out["duplicate_students"] = self.duplicates.height
        return out

    def changes_since(self, day: int) -> pl.DataFrame:
        """Every change made after `day` (exclusive) up to the current day."""
        return self.changes.filter(pl.col("day") > day)

    def advance_to(self, day: int) -> None:
        """Live through days until `day` (forward only; re-generate to go back)."""
        if day < self.day:
            raise ConfigurationError(
                f"cannot go back from day {self.day} to day {day}",
                setting="day",
                hint="generate the district again for an earlier day",
            )
        logs = [self.changes]
        while self.day < day:
            self.day += 1
            logs.append(_days.live_day(self.tables, self.seed, self.day))
        self.changes = pl.concat(logs)
        self.revision += 1

    def renumber_students(self, school_number: int) -> pl.DataFrame:
        """Give every student of a school new IDs and DCIDs (see :mod:`._renumber`); returns
        ``old_dcid, new_dcid, old_id, new_id``."""
        self.duplicates, mapping = _renumber.renumber_school(
            self.tables, self.duplicates, school_number
        )
        log = _days._log(self.day, "students", "update", mapping["new_dcid"], "renumbered")
        self.changes = pl.concat([self.changes, log])
        self.revision += 1
        return mapping

    def manifest(self) -> dict[str, Any]:
        """What identifies and summarises this district (written next to its tables)."""
        return {
            "generator_version": GENERATOR_VERSION,
            "size": self.size,
            "seed": self.seed,
            "students": self.students_requested,
            "day": self.day,
            "date": self.date.isoformat(),
            "counts": self.counts(),
        }


def generate_district(
    size: str = "tiny", *, seed: int = 1, students: int | None = None, day: int = 0
) -> District:
    """Build a district deterministically: same arguments, same tables."""
    if day < 0:
        raise ConfigurationError("--day must be 0 or more", setting="day")
    shape = _generate.shape_for(size, students)
    tables, duplicates = _generate.build(shape, seed)
    district = District(size, seed, students, 0, tables, duplicates)
    district.advance_to(day)
    district.revision = 0
    return district


def write_district(district: District, out_dir: str | Path) -> Path:
    """Write every table as Parquet plus ``manifest.json``; returns the directory."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in district.tables.items():
        frame.write_parquet(out / f"{name}.parquet", statistics=False)
    district.duplicates.write_parquet(out / "_duplicates.parquet", statistics=False)
    district.changes.write_parquet(out / "_changes.parquet", statistics=False)
    (out / "manifest.json").write_text(
        json.dumps(district.manifest(), indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return out


def load_district(directory: str | Path) -> District:
    """Read a district written by :func:`write_district`."""
    folder = Path(directory)
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise ConfigurationError(
            f"{folder} is not a generated district (no manifest.json)",
            setting="data",
            hint="create one with `rostersync generate district --out DIR`",
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        tables = {
            path.stem: pl.read_parquet(path)
            for path in sorted(folder.glob("*.parquet"))
            if not path.stem.startswith("_")
        }
        duplicates = pl.read_parquet(folder / "_duplicates.parquet")
        changes = pl.read_parquet(folder / "_changes.parquet")
        return District(
            manifest["size"],
            int(manifest["seed"]),
            manifest.get("students"),
            int(manifest["day"]),
            tables,
            duplicates,
            changes,
        )
    except (OSError, ValueError, KeyError, pl.exceptions.PolarsError) as exc:
        raise ConfigurationError(
            f"cannot read the district in {folder}: {exc}",
            setting="data",
            hint="generate it again",
        ) from exc
