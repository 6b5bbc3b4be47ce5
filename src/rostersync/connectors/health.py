"""Source health: what a connector received, checked against what the source says it holds.

A source in a partial outage answers lists (and often counts) empty with a success status. A
connector that trusted those answers would hand over short tables, and a short table looks
exactly like deletions. So a connector keeps a :class:`HealthLedger` while it extracts — the
count the source announced for each collection and scope (before and after the lists), the
pages the count implies, the records that really came — and turns it into a
:class:`SourceHealth` verdict. Any problem fails the extract with :class:`SourceHealthError`:
nothing short is ever returned as if it were whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rostersync.errors import SourceHealthError

#: How far a collection may fall short of its announced count before it is a problem: records
#: that left the source while it was read (1 %). Never tolerated: a collection that vanished
#: wholesale, or an empty page inside the announced range.
SHORTFALL_TOLERANCE = 0.01


@dataclass(frozen=True)
class HealthProblem:
    """One collection of one scope came back short of what the source said it holds."""

    entity: str
    #: ``district``, ``school:<dcid>``, ``section:<dcid>`` …
    scope: str
    expected: int | None
    received: int
    message: str

    def reason(self) -> str:
        """The problem as one line for a run record or a log."""
        return f"{self.entity} ({self.scope}): {self.message}"


@dataclass(frozen=True)
class SourceHealth:
    """The verdict on one extract: healthy, or the problems that make it untrustworthy."""

    problems: tuple[HealthProblem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def reasons(self) -> list[str]:
        """Every problem as one line (empty when healthy)."""
        return [p.reason() for p in self.problems]


class PartialExtractError(SourceHealthError):
    """The source answered, but less than it says it holds: the extract is not trusted."""

    def __init__(self, health: SourceHealth, *, source: str | None = None) -> None:
        reasons = health.reasons()
        shown = "; ".join(reasons[:5])
        if len(reasons) > 5:
            shown += f"; and {len(reasons) - 5} more"
        super().__init__(
            reasons,
            source=source,
            message=f"The source sent less than it says it holds (a partial outage?): {shown}",
            hint="nothing was published; check the source app and run the sync again",
        )
        self.health = health


@dataclass
class _Tally:
    #: Every count the source announced for the scope (before, during, after the lists).
    counts: list[int] = field(default_factory=list)
    received: int = 0
    pages_announced: int = 0
    empty_pages: int = 0

    @property
    def expected(self) -> int | None:
        """What the source held throughout: the smallest count above 0 (records added while
        the scope was read are no loss; a 0 is judged on its own)."""
        positive = [c for c in self.counts if c > 0]
        if positive:
            return min(positive)
        return 0 if self.counts else None

    @property
    def went_dark(self) -> bool:
        """The source counted 0 at one moment and more at another."""
        return 0 in self.counts and any(c > 0 for c in self.counts)


@dataclass
class HealthLedger:
    """Counts announced and records received per (entity, scope), for one extract."""

    tallies: dict[tuple[str, str], _Tally] = field(default_factory=dict)
    extra: list[HealthProblem] = field(default_factory=list)

    def _tally(self, entity: str, scope: str) -> _Tally:
        return self.tallies.setdefault((entity, scope), _Tally())

    def announced(self, entity: str, scope: str, count: int | None) -> None:
        """The source said ``scope`` holds ``count`` records of ``entity`` now."""
        if count is not None:
            self._tally(entity, scope).counts.append(count)

    def expected(self, entity: str, scope: str) -> int | None:
        """What the source said ``scope`` holds (None when it never said)."""
        tally = self.tallies.get((entity, scope))
        return tally.expected if tally else None

    def page(self, entity: str, scope: str, records: int, pages_announced: int | None) -> None:
        """A page of ``entity`` arrived with ``records`` records (``pages_announced`` when the
        page was asked for because a count announced it)."""
        tally = self._tally(entity, scope)
        tally.received += records
        if pages_announced:
            tally.pages_announced = max(tally.pages_announced, pages_announced)
            if records == 0:
                tally.empty_pages += 1

    def problem(self, problem: HealthProblem) -> None:
        """A problem found outside the tallies (e.g. the source stopped listing its schools)."""
        self.extra.append(problem)

    def verdict(self) -> SourceHealth:
        """Every scope whose records fell short of what the source announced."""
        problems = list(self.extra)
        for (entity, scope), t in sorted(self.tallies.items()):
            expected = t.expected
            if t.empty_pages:
                problems.append(
                    HealthProblem(
                        entity,
                        scope,
                        expected,
                        t.received,
                        f"{t.empty_pages} of {t.pages_announced} announced pages came back empty",
                    )
                )
            elif t.went_dark:
                problems.append(
                    HealthProblem(
                        entity,
                        scope,
                        max(t.counts),
                        t.received,
                        f"the source counted {max(t.counts)} records at one moment of the "
                        "extraction and 0 at another",
                    )
                )
            elif expected and t.received < expected - int(expected * SHORTFALL_TOLERANCE):
                what = "none" if t.received == 0 else f"only {t.received}"
                problems.append(
                    HealthProblem(
                        entity,
                        scope,
                        expected,
                        t.received,
                        f"the source counts {expected} records, {what} arrived",
                    )
                )
        return SourceHealth(tuple(problems))
