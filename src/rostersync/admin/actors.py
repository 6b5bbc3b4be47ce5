"""Who is acting: the name the audit log records for a command.

A command line names its actor with ``--as NAME`` or ``ROSTERSYNC_ACTOR``; without either it is
the operating-system user, as ``cli:<user>``. (The management API will record the signed-in
admin instead.)
"""

from __future__ import annotations

import getpass
import os
import re

from rostersync.errors import ConfigurationError

ACTOR_ENV = "ROSTERSYNC_ACTOR"
_ACTOR_RE = re.compile(r"^[\w.@:+-]{1,100}$")


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers with a bare uid)
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


def resolve_actor(given: str | None = None) -> str:
    """The actor of this command: ``given`` (``--as``), ``ROSTERSYNC_ACTOR``, or ``cli:<user>``."""
    name = given if given is not None else os.environ.get(ACTOR_ENV) or None
    if name is None:
        return f"cli:{os_user()}"
    if not _ACTOR_RE.match(name):
        where = "--as" if given is not None else ACTOR_ENV
        raise ConfigurationError(
            f"{where}: {name!r} is not an actor name",
            setting=where,
            hint="use up to 100 letters, digits and . @ : + - _ (no spaces)",
        )
    return name
