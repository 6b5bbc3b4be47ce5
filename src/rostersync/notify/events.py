"""Notification events: new data published, a run held for approval, a run failed."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rostersync.clock import utcnow
from rostersync.config import EventKind


@dataclass(frozen=True)
class Event:
    """What happened to a run, with the numbers an admin needs to act on it."""

    kind: EventKind
    district: str
    run_id: int | None = None
    version: int | None = None
    reasons: list[str] = field(default_factory=list)
    counts: dict[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=utcnow)
    #: What started the run (``manual``, ``scheduled``, ``first_day_of_school``…), when known.
    trigger: str | None = None

    @property
    def first_day(self) -> bool:
        """A publish by the automatic sync of the first day of school ("new data available")."""
        return self.kind == "published" and self.trigger == "first_day_of_school"

    def to_dict(self) -> dict[str, Any]:
        return {
            "event": self.kind,
            "district": self.district,
            "run_id": self.run_id,
            "version": self.version,
            "reasons": self.reasons,
            "counts": self.counts,
            "at": self.at.isoformat(),
            "trigger": self.trigger,
            "first_day_of_school": self.first_day,
        }

    def body(self) -> bytes:
        """The webhook body: compact JSON with sorted keys (what the signature covers)."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()

    @property
    def subject(self) -> str:
        run = f"run {self.run_id}" if self.run_id is not None else "a run"
        if self.first_day:
            return (
                f"[rostersync] {self.district}: first day of school, new data available "
                f"(roster version {self.version})"
            )
        if self.kind == "published":
            return f"[rostersync] {self.district}: new roster version {self.version} published"
        if self.kind == "held":
            return f"[rostersync] {self.district}: {run} is held for approval"
        return f"[rostersync] {self.district}: {run} failed"

    def text(self) -> str:
        """Plain-text email body."""
        lines = [self.subject.removeprefix("[rostersync] "), ""]
        if self.reasons:
            lines += ["Why:", *[f"  - {r}" for r in self.reasons], ""]
        changes = self.counts.get("entities", self.counts)
        rows = [
            f"  {name}: +{c.get('added', 0)} ~{c.get('updated', 0)} -{c.get('deleted', 0)}"
            for name, c in sorted(changes.items())
            if isinstance(c, dict) and any(c.get(k) for k in ("added", "updated", "deleted"))
        ]
        if rows:
            lines += ["Changes (added ~updated -deleted):", *rows, ""]
        if self.kind == "held" and self.run_id is not None:
            lines += [
                f"Review:  rostersync changes show {self.run_id}",
                f"Approve: rostersync changes approve {self.run_id}",
                f"Reject:  rostersync changes reject {self.run_id} --reason '...'",
            ]
        return "\n".join(lines) + "\n"
