"""Simulator settings: credentials, page sizes, fault injection and every unconfirmed behaviour.

Each option marked [U] in the PowerSchool reference is a field here, defaulting to the
reference's stated default, so a client can be tested against either reading of the real API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .plugin import Plugin

#: Demo credentials (the plugin's Data Provider Configuration of the embedded simulator).
DEFAULT_CLIENT_ID = "rostersync-demo"
DEFAULT_CLIENT_SECRET = "rostersync-demo-secret"  # noqa: S105 - a documented demo value
#: PowerSchool's default token lifetime: 30 days.
DEFAULT_TOKEN_LIFETIME = 30 * 24 * 3600
RESOURCES = ("student", "staff", "section", "section_enrollment", "school", "course", "term")


def default_max_page_sizes() -> dict[str, int]:
    """100 for every v1 resource and for the table API ([U]: what clients hard-code most)."""
    sizes = dict.fromkeys(RESOURCES, 100)
    sizes["schema_table_query"] = 100
    return sizes


@dataclass
class Faults:
    """Faults to inject; all off by default. Changeable at run time (POST /_sim/faults)."""

    #: Added to every /ws and /oauth answer.
    latency_ms: int = 0
    #: Share (0..1) of /ws requests answered with one of `error_statuses`.
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 503)
    #: Minimum time between two API requests of the plugin (0 = off), as the admin setting.
    min_interval_ms: int = 0
    #: A token stops working after this many /ws requests (tokens that expire mid-run).
    token_max_requests: int | None = None
    #: Share (0..1) of list pages whose JSON body is cut short (a truncated page).
    truncate_rate: float = 0.0
    #: Outage: lists and counts come back empty (status 200) as from a broken SIS.
    outage: bool = False
    #: Outage switched on mid-extraction: once this many /ws requests were answered, every
    #: later list and count comes back empty (as `outage`), until the faults are changed.
    outage_after_requests: int | None = None
    #: How many requests that outage lasts (None: until the faults are changed): an outage
    #: that comes and goes mid-extraction.
    outage_requests: int | None = None
    #: Seed of the fault dice, so a failing run can be replayed.
    seed: int = 0


@dataclass
class SimulatorConfig:
    """Everything about how the simulator behaves, apart from the district it serves."""

    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    token_lifetime: int = DEFAULT_TOKEN_LIFETIME
    #: Resource → max page size, reported by /ws/v1/metadata ([U] real defaults: 100).
    max_page_sizes: dict[str, int] = field(default_factory=default_max_page_sizes)
    #: [U] pagesize over the max: clamp silently (default) or answer 400.
    pagesize_over_max: Literal["clamp", "error"] = "clamp"
    #: [U] /ws/v1/school/{id}/student without an enrollment criterion: active only (default).
    school_student_filter: Literal["active", "all"] = "active"
    #: [U] the status of a v1 call denied by `accessLevelV1Api` (403 likely).
    v1_denied_status: int = 403
    #: Act as SIS 25.2+ (honour the plugin's accessLevelV1Api) instead of the older default.
    enforce_v1_access_level: bool = False
    #: [U] whether schema_table_query_max_page_size also caps PowerQueries (default: no).
    powerquery_page_cap: bool = False
    #: [U] throttling answer: status and whether a Retry-After header is sent.
    throttle_status: int = 429
    throttle_retry_after: bool = True
    #: [U] the status of a token request with bad credentials (body is OAuth2 invalid_client).
    bad_credentials_status: int = 401
    #: [U] digit-only values without a leading zero become JSON numbers in v1 answers.
    coerce_numbers: bool = True
    #: [U] FIQL OR (`,`) in v1 and table `q` (PowerQuery `$q` never allows it).
    fiql_or: bool = False
    #: [U] value lists in v1 `q` (`enroll_status==(A,P)`).
    fiql_value_lists: bool = True
    #: [S] asking for a token again before expiry returns the same token.
    reuse_tokens: bool = True
    #: [U] data-version subscriptions: application name → tables; None = any name, every table.
    dataversion_subscriptions: dict[str, tuple[str, ...]] | None = None
    #: [U] a PowerQuery with `$dataversion` "0" returns every row (a first full load).
    dataversion_zero_is_full: bool = True
    #: Serve the test-only control endpoints under /_sim (off unless enabled).
    enable_control: bool = False
    faults: Faults = field(default_factory=Faults)
    #: The installed plugin; None = the default plugin (grants what a roster sync needs).
    plugin: Plugin | None = None
    powerschool_version: str = "24.7.0.0"
    district_timezone: str = "America/Los_Angeles"
