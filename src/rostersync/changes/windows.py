"""Rollover windows: date windows in which only additions, or no deletions, are applied.

At school-year change a district's SIS is half-rolled for weeks; an ``additions_only`` window
publishes new records but holds back updates and deletions, a ``no_deletions`` window publishes
additions and updates but keeps every record (including a status turned ``tobedeleted``).
Changes held back are reported, not lost: the next run outside the window applies them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from rostersync.changes.diff import TOBEDELETED, ChangeSet, EntityChanges, field_changes
from rostersync.changes.threshold import RolloverWindow


def active_windows(windows: Sequence[RolloverWindow], today: date) -> list[RolloverWindow]:
    """The windows that contain ``today``."""
    return [w for w in windows if w.active(today)]


def _without_deletions(ch: EntityChanges) -> EntityChanges:
    deactivating = (ch.updated["status"] == TOBEDELETED) & (
        ch.updated_before["status"] != TOBEDELETED
    )
    updated = ch.updated.filter(~deactivating)
    before = ch.updated_before.filter(~deactivating)
    return replace(
        ch,
        deleted=ch.deleted.clear(),
        updated=updated,
        updated_before=before,
        fields=ch.fields.join(updated.select("sourcedId"), on="sourcedId", how="semi"),
        candidate_total=ch.candidate_total + ch.deleted.height,
    )


def _additions_only(ch: EntityChanges) -> EntityChanges:
    return replace(
        ch,
        deleted=ch.deleted.clear(),
        updated=ch.updated.clear(),
        updated_before=ch.updated_before.clear(),
        fields=field_changes(ch.entity, ch.updated.clear(), ch.updated.clear()),
        candidate_total=ch.base_total + ch.added.height,
    )


def apply_windows(
    changes: ChangeSet, windows: Sequence[RolloverWindow], today: date
) -> tuple[ChangeSet, dict[str, dict[str, int]]]:
    """The change set restricted by the windows active ``today``, and what was held back."""
    active = {w.kind for w in active_windows(windows, today)}
    if not active:
        return changes, {}
    out: dict[str, EntityChanges] = {}
    held_back: dict[str, dict[str, int]] = {}
    for name, ch in changes.entities.items():
        new = _additions_only(ch) if "additions_only" in active else _without_deletions(ch)
        skipped_updates = ch.updated.height - new.updated.height
        skipped_deletes = ch.deleted.height
        if skipped_updates or skipped_deletes:
            held_back[name] = {"updated": skipped_updates, "deleted": skipped_deletes}
        out[name] = new
    return ChangeSet(out, changes.base_version), held_back


def window_note(held_back: dict[str, dict[str, int]]) -> str:
    """One line saying what a rollover window held back."""
    parts = [
        f"{name}: {c['updated']} updates, {c['deleted']} deletions"
        for name, c in sorted(held_back.items())
    ]
    return "rollover window held back " + "; ".join(parts) if parts else ""


__all__ = ["active_windows", "apply_windows", "window_note"]
