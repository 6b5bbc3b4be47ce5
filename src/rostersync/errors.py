"""The one error tree of rostersync, grouped by what the caller should do about it.

::

    RostersyncError               raised on purpose; the CLI prints it without a traceback
    ├── ConfigurationError        a setting or config is wrong: fix it, run again (terminal)
    │   └── ConfigValidationError many problems at once, each with its path
    ├── SourceError               the source app (SIS) could not give us the data
    │   ├── SourceUnreachable     network, DNS, TLS, timeouts, 5xx, throttling (transient)
    │   ├── SourceAuthError       bad client ID/secret, plugin disabled, field not granted
    │   └── SourceDataError       a payload or record we cannot read: the record is skipped
    ├── StoreError                the metadata database or the published roster
    │   ├── StoreUnavailable      cannot connect to / open the database (transient)
    │   ├── VersionNotFound       a roster version or run that does not exist
    │   └── PublishConflict       the roster moved on since this change set was computed
    ├── RunHeld                   a sync stopped for approval (threshold or preview)
    ├── RunInProgress             a sync of the same district is running: wait, or queue it
    └── FatalError                a bug or an impossible state: report it

Every error keeps its inputs as attributes (``setting``, ``path``, ``hint``…) so the CLI, the web
UI and the run report can show them without parsing the message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class RostersyncError(Exception):
    """Base class: an error we raise on purpose, with a message meant for an admin."""

    #: Exit code the CLI uses for this kind of error.
    exit_code: int = 1
    #: True when trying the same thing again later may succeed.
    transient: bool = False

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} — {self.hint}"
        return self.message


class ConfigurationError(RostersyncError):
    """A setting or configuration value is wrong; nothing will work until it is fixed."""

    exit_code = 2

    def __init__(
        self, message: str, *, setting: str | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.setting = setting


@dataclass(frozen=True)
class Problem:
    """One problem found while validating input: where it is and what is wrong."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigValidationError(ConfigurationError):
    """Every problem found in a configuration, each with its path, reported together."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = list(problems)
        count = len(self.problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{source}: {count} {noun}\n{lines}")


class SourceError(RostersyncError):
    """The source application could not give us what we asked for."""

    exit_code = 3

    def __init__(self, message: str, *, source: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.source = source


class SourceUnreachable(SourceError):
    """Network trouble, timeouts, 5xx or throttling: worth retrying later."""

    transient = True


class SourceAuthError(SourceError):
    """The source refused our credentials or our plugin's permissions."""


class SourceHealthError(SourceError):
    """The extract is not trusted (empty, a school or class gone, less than the source says it
    holds): the run fails and nothing is published. ``reasons`` names each problem and its scope.

    Raised by a connector that cross-checks what it received, and by the change step's health
    checks; callers catch this one class for both.
    """

    def __init__(
        self,
        reasons: list[str],
        *,
        source: str | None = None,
        message: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(
            message or "Failed extract, nothing published: " + "; ".join(reasons),
            source=source,
            hint=hint
            or "check the source app (outage? permissions? a file with only headers?) and "
            "run the sync again",
        )
        self.reasons = list(reasons)


class SourceDataError(SourceError):
    """The source sent something we cannot read; the record is skipped and reported."""


class StoreError(RostersyncError):
    """The metadata database or the published roster."""

    exit_code = 4


class StoreUnavailable(StoreError):
    """The database cannot be reached or opened."""

    transient = True

    def __init__(self, message: str, *, setting: str | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.setting = setting


class VersionNotFound(StoreError):
    """A roster version, run or other stored object that does not exist."""


class PublishConflict(StoreError):
    """The published roster changed since this change set was computed."""


class RunHeld(RostersyncError):
    """A sync stopped before publishing and waits for an admin's approval."""

    exit_code = 10

    def __init__(self, message: str, *, run_id: int | None = None, reasons: Sequence[str] = ()):
        super().__init__(message)
        self.run_id = run_id
        self.reasons = list(reasons)


class RunInProgress(RostersyncError):
    """A sync of the same district is already running; a second one may not start meanwhile."""

    exit_code = 5
    transient = True

    def __init__(
        self,
        message: str,
        *,
        district: str | None = None,
        source: str | None = None,
        run_id: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.district = district
        self.source = source
        self.run_id = run_id


class FatalError(RostersyncError):
    """An impossible state: a bug to report, never a user mistake."""

    exit_code = 70
