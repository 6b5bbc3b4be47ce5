"""The long fuzz run: Hypothesis-generated requests from an API's own OpenAPI document.

By default it syncs a simulated district into a fresh store (SQLite, or PostgreSQL with
``--db URL``), serves the OneRoster provider over a socket, and fuzzes every operation of the
published schema (OneRoster 1.1, 1.2, the OAuth token endpoint) with a real API client's bearer
token: positive and negative requests, plus a positive pass whose path parameters name
objects that exist. ``make test`` runs the same checks with a few examples (tests/fuzz); this
script runs many.

Any other API served over HTTP can be fuzzed the same way: ``--url`` and ``--token`` (and
``--schema`` for where its OpenAPI document is) skip the set-up and fuzz what runs there.

Prints one JSON object: operations, examples, responses by status, failures by kind, and the
first failure of each (operation, kind) with the request that caused it.

    .venv/bin/python bench/fuzz.py --examples 100
    .venv/bin/python bench/fuzz.py --examples 50 --db postgresql+psycopg://postgres@127.0.0.1/test
    .venv/bin/python bench/fuzz.py --url http://127.0.0.1:8000 --token TOKEN --only /api/v1

``--management`` fuzzes the management API (``/api/v1``, its own OpenAPI document) instead,
as an operator with real path values, over the same kind of synced district:

    .venv/bin/python bench/fuzz.py --management --examples 50
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "fuzz"))
# the fuzz targets reuse the tests' helpers (``support.*``)
sys.path.insert(1, str(Path(__file__).resolve().parents[1] / "tests"))

import fuzz_management
from fuzz_provider import error_payload, real_ids, synced_provider
from openapi_fuzz import CHECKS, Served, fuzz, load

from _common import emit, load_average, machine, progress
from rostersync.logs import configure_logging


@contextmanager
def target(args: argparse.Namespace) -> Iterator[tuple[Served, bool]]:
    """The API to fuzz, and whether it is our OneRoster provider (its rules apply)."""
    if args.url:
        yield Served(args.url.rstrip("/"), args.token or ""), False
        return
    with tempfile.TemporaryDirectory(prefix="rostersync-fuzz-") as tmp:
        if args.db:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "oneroster"))
            import or_provider

            or_provider.PG_URL = args.db
            with or_provider.postgres_schema() as url:
                for served in synced_provider(Path(tmp), url, args.size):
                    yield served, True
        else:
            for served in synced_provider(Path(tmp), None, args.size):
                yield served, True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=100, help="per operation and mode")
    parser.add_argument("--seconds", type=float, default=None, help="stop starting operations")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", default="tiny", help="simulated district size (tiny, small…)")
    parser.add_argument("--db", help="PostgreSQL URL (a throwaway schema is used)")
    parser.add_argument("--url", help="fuzz the API already running there instead")
    parser.add_argument("--token", help="bearer token for --url")
    parser.add_argument("--schema", default="/openapi.json", help="OpenAPI path under the URL")
    parser.add_argument("--only", help="only operations whose label contains this")
    parser.add_argument("--management", action="store_true", help="fuzz /api/v1 instead")
    args = parser.parse_args()
    configure_logging("ERROR")  # stdout carries the JSON result only
    if args.management:
        management(args)
        return

    with target(args) as (served, ours):
        progress(f"fuzzing {served.url}{args.schema} with {args.examples} examples/operation")
        schema = load(served.url, args.schema)
        summary = fuzz(
            schema,
            served.url,
            headers={"Authorization": f"Bearer {served.token}"} if served.token else None,
            max_examples=args.examples,
            seed=args.seed,
            error_payload=error_payload if ours else None,
            operations=(lambda label: args.only in label) if args.only else None,
            deadline_seconds=args.seconds,
            path_values=real_ids(served) if ours else None,
        )
    emit(
        {
            "benchmark": "fuzz",
            "target": args.url or f"oneroster provider ({'postgresql' if args.db else 'sqlite'})",
            "examples_per_operation": args.examples,
            "seed": args.seed,
            **summary.to_dict(),
            "load_average_1m": load_average(),
            "machine": machine(),
        }
    )
    sys.exit(1 if summary.failures else 0)


@contextmanager
def management_target(args: argparse.Namespace) -> Iterator[fuzz_management.ManagedServed]:
    with tempfile.TemporaryDirectory(prefix="rostersync-fuzz-api-") as tmp:
        if args.db:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "oneroster"))
            import or_provider

            or_provider.PG_URL = args.db
            with or_provider.postgres_schema() as url:
                yield from fuzz_management.synced_management(Path(tmp), url, args.size)
        else:
            yield from fuzz_management.synced_management(Path(tmp), None, args.size)


def management(args: argparse.Namespace) -> None:
    """Fuzz the management API as an operator (every operation but deleting the district,
    which is fuzzed last on its own)."""
    checks = [c for c in CHECKS if c.__name__ != "ignored_auth"]  # tests/fuzz covers it
    with management_target(args) as served:
        progress(f"fuzzing {served.url}/api/v1 with {args.examples} examples/operation")
        schema = load(served.url, fuzz_management.SCHEMA_PATH)
        destructive = fuzz_management.DESTRUCTIVE
        runs = [
            fuzz(
                schema,
                served.url,
                headers={"Authorization": f"Bearer {served.token}"},
                max_examples=args.examples,
                seed=args.seed,
                error_payload=fuzz_management.error_payload,
                checks=checks,
                operations=lambda label, last=last: (
                    (label == destructive) == last and (not args.only or args.only in label)
                ),
                deadline_seconds=args.seconds,
                path_values=None if last else fuzz_management.real_values(served),
            )
            for last in (False, True)
        ]
    summary = runs[0]
    summary.operations += runs[1].operations
    summary.examples += runs[1].examples
    summary.statuses.update(runs[1].statuses)
    summary.failures += runs[1].failures
    summary.seconds += runs[1].seconds
    emit(
        {
            "benchmark": "fuzz",
            "target": f"management api ({'postgresql' if args.db else 'sqlite'})",
            "examples_per_operation": args.examples,
            "seed": args.seed,
            **summary.to_dict(),
            "load_average_1m": load_average(),
            "machine": machine(),
        }
    )
    sys.exit(1 if summary.failures else 0)


if __name__ == "__main__":
    main()
