"""Fuzzing an HTTP API from its own OpenAPI document, for any app served over a socket.

Used by the bounded run in ``make test`` (tests/fuzz) and the longer one (bench/fuzz.py). The
schema is read from the running server; every operation gets Hypothesis-generated requests,
positive (fitting the schema) and negative (not fitting it), sent with the credentials given.
Each response is checked for: no 5xx, the documented status codes, content types, headers and
body schemas, negative data refused, and a clear error payload on every 4xx (a caller-given
check, since each API has its own error envelope).
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import hypothesis.errors
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

#: What every response is checked against.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
]
#: ``(case, response) -> problem or None``: the API's own rule about error payloads.
ErrorPayloadRule = Callable[[Case, Any], str | None]


@dataclass
class Served:
    """A running API to fuzz: its base URL and a valid bearer token."""

    url: str
    token: str


@dataclass
class Found:
    """One distinct failure: which operation, what kind, an example request."""

    operation: str
    kind: str
    message: str
    request: str


@dataclass
class Summary:
    """What a fuzz run did and found."""

    operations: int = 0
    examples: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[Found] = field(default_factory=list)
    seconds: float = 0.0

    def by_kind(self) -> dict[str, int]:
        return dict(Counter(f.kind for f in self.failures))

    def to_dict(self) -> dict[str, Any]:
        return {
            "operations": self.operations,
            "examples": self.examples,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "failures": len(self.failures),
            "failures_by_kind": self.by_kind(),
            "failure_examples": [f.__dict__ for f in self.failures[:50]],
            "seconds": round(self.seconds, 2),
        }


def load(base_url: str, schema_path: str = "/openapi.json") -> schemathesis.BaseSchema:
    """The API's schema as the running server publishes it."""
    schema = schemathesis.openapi.from_url(base_url + schema_path)
    schema.config.update(base_url=base_url)
    # Credentials are the caller's (headers given to fuzz): a generated Authorization header
    # would be replaced by them, and a "negative" case built on it would be a false alarm.
    schema.config.generation.update(with_security_parameters=False)
    return schema


def _describe(case: Case) -> str:
    return f"{case.method} {case.formatted_path} query={case.query!r} body={case.body!r}"[:500]


def fuzz(
    schema: schemathesis.BaseSchema,
    base_url: str,
    *,
    headers: dict[str, str] | None = None,
    max_examples: int = 20,
    seed: int = 0,
    modes: Iterable[GenerationMode] = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
    error_payload: ErrorPayloadRule | None = None,
    checks: list[Any] | None = None,
    operations: Callable[[str], bool] | None = None,
    deadline_seconds: float | None = None,
    path_values: Callable[[str], dict[str, str] | None] | None = None,
) -> Summary:
    """Send ``max_examples`` generated requests per operation and mode; collect failures.

    Deterministic for a given ``seed`` (Hypothesis derandomized); distinct failures are kept
    once per (operation, kind). ``deadline_seconds`` stops starting new operations past it.
    """
    summary = Summary()
    seen: set[tuple[str, str]] = set()
    started = time.monotonic()
    session = requests.Session()
    chosen_checks = checks if checks is not None else CHECKS
    for result in schema.get_all_operations():
        operation = result.ok()
        label = operation.label
        if operations is not None and not operations(label):
            continue
        if deadline_seconds is not None and time.monotonic() - started > deadline_seconds:
            break
        summary.operations += 1
        passes = [(mode, operation.as_strategy(generation_mode=mode)) for mode in modes]
        real = path_values(operation.path) if path_values is not None else None
        if real:
            positive = GenerationMode.POSITIVE
            passes.append((positive, operation.as_strategy(positive, path_parameters=real)))
        for _mode, strategy in passes:
            _run_mode(
                strategy,
                label,
                base_url,
                session,
                headers,
                chosen_checks,
                error_payload,
                max_examples,
                seed,
                summary,
                seen,
            )
    summary.seconds = time.monotonic() - started
    session.close()
    return summary


def _run_mode(
    strategy: Any,
    label: str,
    base_url: str,
    session: requests.Session,
    headers: dict[str, str] | None,
    checks: list[Any],
    error_payload: ErrorPayloadRule | None,
    max_examples: int,
    seed: int,
    summary: Summary,
    seen: set[tuple[str, str]],
) -> None:
    def record(kind: str, message: str, case: Case) -> None:
        if (label, kind) not in seen:
            seen.add((label, kind))
            summary.failures.append(Found(label, kind, message[:500], _describe(case)))

    @hypothesis.settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @hypothesis.seed(seed)
    @given(case=strategy)
    def run(case: Case) -> None:
        summary.examples += 1
        response = case.call(base_url=base_url, session=session, headers=headers)
        summary.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                record(_kind(failure), _message(failure), case)
        except Failure as failure:
            record(_kind(failure), _message(failure), case)
        if error_payload is not None and 400 <= response.status_code < 500:
            problem = error_payload(case, response)
            if problem:
                record("error_payload", problem, case)

    # An operation without parameters or body has no negative request to make.
    with contextlib.suppress(hypothesis.errors.Unsatisfiable):
        run()


def _kind(failure: Failure) -> str:
    return type(failure).__name__


def _message(failure: Failure) -> str:
    return f"{failure.title}: {failure.message}"
