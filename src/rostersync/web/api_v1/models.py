"""Response and request bodies of the management API (its OpenAPI schema)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Me(Model):
    name: str
    role: str
    districts: list[int]


class DistrictOut(Model):
    id: int
    name: str
    slug: str
    created_at: datetime


class DistrictSummaryOut(DistrictOut):
    current_version: int | None
    versions: int
    runs: int
    api_clients: int
    config_version: int | None


class DistrictCreate(Model):
    name: str = Field(min_length=1, max_length=200)


class DistrictDeletedOut(Model):
    id: int
    name: str
    rows: dict[str, int]
    reports_removed: list[str]
    reports_left: list[str]


class ConfigVersionOut(Model):
    district_id: int
    version: int
    created_at: datetime
    created_by: str
    comment: str | None


class ConfigOut(Model):
    info: ConfigVersionOut
    body: dict[str, Any]


class ConfigChangeOut(Model):
    path: str
    kind: str
    old: Any = None
    new: Any = None


class ConfigDiffOut(Model):
    district_id: int
    a: int
    b: int
    changes: list[ConfigChangeOut]
    unified: str


class RunOut(Model):
    id: int
    district_id: int
    source: str | None
    trigger: str
    status: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    phases: dict[str, Any]
    counts: dict[str, Any]
    report: dict[str, Any]
    change_summary: dict[str, Any]
    error: str | None
    roster_version: int | None


class RunStart(Model):
    source: str | None = Field(
        default=None, description="the source that asks (default: the configuration's first)"
    )


class RunEventOut(Model):
    at: datetime
    kind: str
    phase: str | None
    entity: str | None
    message: str
    data: dict[str, Any]


class ChangeSetOut(Model):
    run_id: int
    district_id: int
    status: str
    base_version: int | None
    total: int
    entities: dict[str, dict[str, int]]
    summary: dict[str, Any]


class Reject(Model):
    reason: str = Field(min_length=1, max_length=1000)


class OverrideCreate(Model):
    until: date
    reason: str | None = Field(default=None, max_length=1000)


class OverrideRevoke(Model):
    reason: str = Field(min_length=1, max_length=1000)


class OverrideOut(Model):
    id: int
    district_id: int
    until: date
    reason: str | None
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    revoke_reason: str | None


class EntityCountsOut(Model):
    total: int
    added: int
    updated: int
    deleted: int


class RosterVersionOut(Model):
    district_id: int
    version: int
    created_at: datetime
    run_id: int | None
    note: str | None
    status: str
    hash_tag: str
    counts: dict[str, EntityCountsOut]


class EntityDiffOut(Model):
    added: list[str]
    updated: list[str]
    deleted: list[str]


class VersionDiffOut(Model):
    district_id: int
    a: int
    b: int
    entities: dict[str, EntityDiffOut]


class ApiClientCreate(Model):
    name: str = Field(min_length=1, max_length=200)
    scopes: list[str] = Field(min_length=1)
    schools: list[str] | None = None
    entities: list[str] | None = None
    fields: list[str] | None = None
    grant: list[str] = Field(default_factory=list, description="sensitive categories granted")
    expires: str | None = Field(default=None, description="YYYY-MM-DD or an ISO 8601 time")


class ApiClientOut(Model):
    name: str
    client_id: str
    district_id: int
    scopes: list[str]
    sensitive: list[str]
    sharing: dict[str, Any]
    created_at: datetime
    expires_at: datetime | None
    expired: bool
    revoked: bool


class ApiClientIssued(ApiClientOut):
    client_secret: str = Field(description="shown only in this answer")


class SecretPut(Model):
    value: str = Field(min_length=1, max_length=64 * 1024)


class SecretOut(Model):
    district_id: int
    name: str
    created_at: datetime
    updated_at: datetime


class SecretSet(Model):
    name: str
    replaced: bool


class AuditEntryOut(Model):
    id: int
    at: datetime
    actor: str
    action: str
    district_id: int | None
    detail: dict[str, Any]


class ConnectionReportOut(Model):
    source: str
    ok: bool
    message: str
    hint: str | None
    district_name: str | None
    school_count: int | None
    page_sizes: dict[str, int]
    missing_fields: list[str]
    details: dict[str, Any]


class FieldChangeOut(Model):
    sourcedId: str
    field: str
    before: str | None
    after: str | None


class ChangePageOut(Model):
    run_id: int
    entity: str
    kind: str
    total: int
    offset: int
    limit: int
    sourced_ids: list[str]
    fields: list[FieldChangeOut] = Field(
        default_factory=list, description="for updated records: each changed field, before/after"
    )
