"""Structured logging set up once, with secrets scrubbed from every event before it is written."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

#: Keys whose values are never written to a log, whatever their content.
SECRET_KEYS = re.compile(r"(secret|password|token|authorization|api_key|credential)", re.I)


def scrub_secrets(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: replace the values of secret-looking keys."""
    for key in list(event):
        if SECRET_KEYS.search(key):
            event[key] = "********"
    return event


class _CurrentStderr:
    """A file-like object that writes to whatever ``sys.stderr`` is at the time of writing.

    structlog's print logger keeps the file it was given; when stderr is swapped after logging
    is configured (a test harness capturing output, a daemon re-opening its streams) a kept
    reference would write to a closed file and turn a log line into a crash.
    """

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(level: str = "INFO", fmt: str = "console") -> None:
    """Route structlog and the standard library's logging to stderr, in console or JSON form."""
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    stderr = _CurrentStderr()
    logging.basicConfig(level=level, stream=stderr, format="%(message)s", force=True)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            scrub_secrets,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(stderr),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> Any:
    """A structlog logger bound to a component name."""
    return structlog.get_logger(component=name)
