"""The store's tables, every one the database holds, declared once on one ``MetaData``: metadata
(districts, sources, configs, runs, change sets, audit, API clients, approval, notifications,
scheduling) and the versioned published roster, one table per canonical entity derived from
``model.ENTITIES``. Other packages import the table objects from here.

Versioned roster ("valid-time" rows): each row of ``roster_<entity>`` carries ``valid_from`` (the
roster version that introduced it) and ``valid_to`` (the version that replaced or deleted it; NULL
while it is current). Version V of a table is the rows with ``valid_from <= V`` and
``(valid_to IS NULL OR valid_to > V)``. A publish therefore writes rows in proportion to what
changed, not to the roster's size, and every version stays readable.

JSON-shaped columns (``body``, ``phases``, ``counts``…) are plain TEXT holding JSON written by the
store itself, so SQLite and PostgreSQL store them identically.
"""

from __future__ import annotations

from typing import Any, Final

import polars as pl
import sqlalchemy as sa

from rostersync.model import ENTITIES, Entity

metadata = sa.MetaData()

#: Tables that are not versioned roster tables.
districts = sa.Table(
    "districts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("slug", sa.Text, nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

sources = sa.Table(
    "sources",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "district_id", sa.Integer, sa.ForeignKey("districts.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("app", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("district_id", "name", name="uq_sources_district_name"),
)

config_versions = sa.Table(
    "config_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "district_id", sa.Integer, sa.ForeignKey("districts.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("comment", sa.Text, nullable=True),
    sa.UniqueConstraint("district_id", "version", name="uq_config_versions_district_version"),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "district_id", sa.Integer, sa.ForeignKey("districts.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("source", sa.Text, nullable=True),
    sa.Column("trigger", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("phases", sa.Text, nullable=False, server_default="{}"),
    sa.Column("counts", sa.Text, nullable=False, server_default="{}"),
    sa.Column("report", sa.Text, nullable=False, server_default="{}"),
    sa.Column("change_summary", sa.Text, nullable=False, server_default="{}"),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("roster_version", sa.Integer, nullable=True),
    # host:pid:start of the process driving the run now (migration 0010): a run whose owner
    # died is recovered at once on the same host, after its heartbeat's lease elsewhere.
    sa.Column("owner", sa.Text, nullable=True),
    sa.Index("ix_runs_district_created", "district_id", "id"),
)

#: A run's events in order (migration 0011): phases started and finished, entity progress,
#: warnings and the decision, so a finished run can be replayed and an interrupted one shows
#: where it stopped. ``data`` is the event's JSON.
run_events = sa.Table(
    "run_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("phase", sa.Text, nullable=True),
    sa.Column("entity", sa.Text, nullable=True),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("data", sa.Text, nullable=False, server_default="{}"),
    sa.Index("ix_run_events_run", "run_id", "id"),
)

#: One row per (run, entity, kind); ``sourced_ids`` is the JSON array of every affected sourcedId
#: (the rows themselves live in the versioned roster tables, so IDs are enough to explain a run).
change_sets = sa.Table(
    "change_sets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("entity", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("sourced_ids", sa.Text, nullable=False),
    sa.CheckConstraint("kind IN ('added', 'updated', 'deleted')", name="ck_change_sets_kind"),
    sa.Index("ix_change_sets_run", "run_id"),
)

roster_versions = sa.Table(
    "roster_versions",
    metadata,
    sa.Column(
        "district_id",
        sa.Integer,
        sa.ForeignKey("districts.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("run_id", sa.Integer, nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("counts", sa.Text, nullable=False),
    sa.Column("hash_tag", sa.Text, nullable=False),
    sa.CheckConstraint("status IN ('published', 'restored')", name="ck_roster_versions_status"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "district_id", sa.Integer, sa.ForeignKey("districts.id", ondelete="SET NULL"), nullable=True
    ),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_audit_log_district_at", "district_id", "at"),
)

#: OAuth 1.0a nonces seen by any server process (migration ``0013_oauth_nonces``). A signed
#: request is accepted only by the process whose insert of its (client, nonce, timestamp) wins;
#: rows older than the timestamp window are purged, since such requests are refused as stale.
oauth_nonces = sa.Table(
    "oauth_nonces",
    metadata,
    sa.Column("client_id", sa.Text, primary_key=True),
    sa.Column("nonce", sa.Text, primary_key=True),
    sa.Column("timestamp", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Index("ix_oauth_nonces_timestamp", "timestamp"),
)


#: The management plane (migration ``0015_management_plane``): the encrypted secret store, admin
#: accounts, their district grants, personal API tokens and the login backoff.
#: ``secrets``: AES-GCM ciphertexts (the nonce is the first 12 bytes of ``ciphertext``) bound to
#: their district and name; ``key_id`` names the key-encryption key that wrote them.
stored_secrets = sa.Table(
    "secrets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "district_id", sa.Integer, sa.ForeignKey("districts.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("ciphertext", sa.LargeBinary, nullable=False),
    sa.Column("key_id", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("district_id", "name", name="uq_secrets_district_name"),
)

admin_accounts = sa.Table(
    "admin_accounts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    #: The TOTP seed, encrypted like a secret (bound to the account), or NULL without TOTP.
    sa.Column("totp_secret", sa.LargeBinary, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint(
        "role IN ('operator', 'district_admin', 'viewer')", name="ck_admin_accounts_role"
    ),
)

admin_grants = sa.Table(
    "admin_grants",
    metadata,
    sa.Column(
        "account_id",
        sa.Integer,
        sa.ForeignKey("admin_accounts.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "district_id",
        sa.Integer,
        sa.ForeignKey("districts.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
)

#: Personal API tokens: only the SHA-256 of the token is kept; ``prefix`` identifies it in lists.
admin_tokens = sa.Table(
    "admin_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "account_id",
        sa.Integer,
        sa.ForeignKey("admin_accounts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("prefix", sa.Text, nullable=False),
    sa.Column("token_hash", sa.Text, nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
)

#: Failed logins per (account, client address): the backoff grows with ``failures`` and is capped.
login_failures = sa.Table(
    "login_failures",
    metadata,
    sa.Column("account", sa.Text, primary_key=True),
    sa.Column("address", sa.Text, primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=False),
)


#: API clients of the OneRoster provider (migrations ``0002_api_clients``, ``0016_client_expiry``):
#: only the SHA-256 of a client's secret is stored (``export/oneroster/clients.py``).
api_clients = sa.Table(
    "api_clients",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("district_id", sa.Integer, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("client_id", sa.Text, nullable=False, unique=True),
    sa.Column("secret_salt", sa.Text, nullable=False),
    sa.Column("secret_hash", sa.Text, nullable=False),
    sa.Column("scopes", sa.Text, nullable=False),
    sa.Column("sharing", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
    sa.UniqueConstraint("district_id", "name", name="uq_api_clients_district_name"),
)

#: Change approval (migrations ``0003_changes``, ``0012_override_revocation``), read and written
#: by ``sync/changesets.py``.
#: ``change_set_frames``: per run, entity and part (``added``, ``updated``, ``updated_before``,
#: ``deleted``, ``fields``) the rows as Parquet bytes: a held run's candidate roster is kept as
#: its change set, so approving publishes ``apply(last accepted version, change set)``.
change_set_frames = sa.Table(
    "change_set_frames",
    metadata,
    sa.Column(
        "run_id",
        sa.Integer,
        sa.ForeignKey("runs.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("entity", sa.Text, primary_key=True),
    sa.Column("part", sa.Text, primary_key=True),
    sa.Column("row_count", sa.Integer, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

#: Time-boxed "allow over threshold until DATE" grants for planned mass changes (rollover), with
#: who granted them and why, and who revoked them, when and why. The latest grant wins.
hold_overrides = sa.Table(
    "hold_overrides",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "district_id",
        sa.Integer,
        sa.ForeignKey("districts.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("until", sa.Date, nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("revoked_by", sa.Text, nullable=True),
    sa.Column("revoke_reason", sa.Text, nullable=True),
)

#: Every notification attempt (channel, target, try, outcome), migration ``0003_changes``;
#: written through ``notify.DeliveryLog``, which its callers give this table.
notification_deliveries = sa.Table(
    "notification_deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("district_id", sa.Integer, nullable=True, index=True),
    sa.Column("run_id", sa.Integer, nullable=True, index=True),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("http_status", sa.Integer, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

#: The scheduler's bookkeeping (migrations ``0004_schedule``, ``0007_schedule_claims``), read and
#: written by the schedule package. ``district_id`` columns hold ``districts.id`` with
#: deliberately no foreign key, so these short-lived rows never block deleting a district
#: (stale ones are ignored).
#: ``run_locks``: at most one row per district, the run holding that district's lock. A
#: district's runs never overlap, whatever the source: two sources of one district publish into
#: the same roster. A row whose ``expires_at`` has passed belongs to a dead worker and may be
#: reclaimed.
run_locks = sa.Table(
    "run_locks",
    metadata,
    sa.Column("district_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("trigger", sa.Text, nullable=False),
    sa.Column("run_id", sa.Integer, nullable=True),
    sa.Column("owner", sa.Text, nullable=False),
    sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)

#: Per (district, source), the last slot it was dispatched for, so a restart neither repeats a
#: slot nor runs every missed one.
schedule_state = sa.Table(
    "schedule_state",
    metadata,
    sa.Column("district_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("source", sa.Text, primary_key=True),
    sa.Column("last_slot", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_kind", sa.Text, nullable=True),
    sa.Column("last_trigger", sa.Text, nullable=True),
    sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
    # which scheduler tick dispatched the last slot (tells claims of two schedulers apart)
    sa.Column("claimed_by", sa.Text, nullable=True),
    sa.Column("expired_notice_at", sa.DateTime(timezone=True), nullable=True),
)

#: When each scheduler loop last ticked, so a stopped scheduler is visible
#: (``rostersync schedule show``) rather than silent.
scheduler_heartbeats = sa.Table(
    "scheduler_heartbeats",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("host", sa.Text, nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sources", sa.Integer, nullable=False, server_default="0"),
)


def _sql_type(dtype: pl.DataType) -> sa.types.TypeEngine[Any]:
    """SQL column type of a canonical Polars type (lists are JSON arrays in TEXT)."""
    if dtype == pl.Utf8:
        return sa.Text()
    if dtype == pl.Date:
        return sa.Date()
    if isinstance(dtype, pl.Datetime):
        return sa.DateTime(timezone=True)
    if dtype == pl.Boolean:
        return sa.Boolean()
    if isinstance(dtype, pl.List):
        return sa.Text()
    raise TypeError(f"no SQL type for canonical dtype {dtype}")


def is_id_column(name: str) -> bool:
    """Whether a canonical column holds a sourcedId (its own or a reference to another)."""
    return name == "sourcedId" or name.endswith("SourcedId")


def _column_type(name: str, dtype: pl.DataType) -> sa.types.TypeEngine[Any]:
    """SQL type of a roster column. IDs are opaque: on PostgreSQL they compare bytewise
    (``COLLATE "C"``, migration 0008), which is cheaper in every index insert and matches
    Polars' sort order; SQLite's default text comparison is bytewise already."""
    if is_id_column(name):
        return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
    return _sql_type(dtype)


def roster_table_name(entity: str) -> str:
    return f"roster_{entity}"


#: Bookkeeping columns of every roster table, after the canonical fields.
ROSTER_EXTRA_COLUMNS: Final = ("district_id", "row_hash", "valid_from", "valid_to", "deleted_at")

#: When a record last changed as consumers see it: the time of its deletion for a row a
#: publish closed because the record was deleted (``deleted_at``), else its ``dateLastModified``.
#: Indexed per district under this exact expression (``ix_<table>_modified``), so a provider
#: filter ``dateLastModified > T`` is an index range scan on both backends.
MODIFIED_SQL: Final = 'coalesce(deleted_at, "dateLastModified")'


#: Columns the OneRoster provider looks current rows up by (nested endpoints such as
#: ``/classes/{id}/students`` and common filters): partial indexes over the current rows only.
CURRENT_LOOKUPS: Final[dict[str, tuple[str, ...]]] = {
    "enrollments": ("classSourcedId", "userSourcedId", "schoolSourcedId"),
    "classes": ("schoolSourcedId", "courseSourcedId"),
    "courses": ("orgSourcedId",),
    "users": ("familyName", "givenName"),
}


#: Rows the lookup indexes cover: the current ones and the deleted records' last rows (the
#: OneRoster provider serves those as tombstones, so its listings, which read both, keep using
#: these indexes; a query on current rows only implies this predicate as well).
LOOKUP_PREDICATE: Final = "valid_to IS NULL OR deleted_at IS NOT NULL"


def _current_lookup_indexes(name: str, entity: str) -> list[sa.Index]:
    current = sa.text(LOOKUP_PREDICATE)
    return [
        sa.Index(
            f"ix_{name}_cur_{column}",
            "district_id",
            column,
            postgresql_where=current,
            sqlite_where=current,
        )
        for column in CURRENT_LOOKUPS.get(entity, ())
    ]


def partition_name(entity: str, district_id: int) -> str:
    """PostgreSQL partition of one district's rows of a roster table (``roster_users_d7``)."""
    return f"{roster_table_name(entity)}_d{int(district_id)}"


def _roster_table(entity: Entity) -> sa.Table:
    name = roster_table_name(entity.name)
    return sa.Table(
        name,
        metadata,
        # No foreign key to districts: roster rows are written only by a publish, which claims
        # its version in roster_versions (keyed to districts) in the same transaction; a
        # per-row foreign-key check doubled the cost of every bulk write (migration 0009).
        sa.Column("district_id", sa.Integer, nullable=False),
        *(
            sa.Column(f.name, _column_type(f.name, f.dtype), nullable=f.name != "sourcedId")
            for f in entity.fields
        ),
        # Polars' u64 row hash reinterpreted as a signed int64 (same bits), see _hashing.py.
        sa.Column("row_hash", sa.BigInteger, nullable=False),
        sa.Column("valid_from", sa.Integer, nullable=False),
        sa.Column("valid_to", sa.Integer, nullable=True),
        # Set, with valid_to, on the row a publish closed because its record was deleted:
        # the deletion time, which consumers see as the tombstone's dateLastModified
        # (export/oneroster/query.py). Not part of any version's content.
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        # A record's versions by sourcedId: a publish closes current rows through this key and
        # paging by sourcedId follows it. Reading a version scans the district's rows anyway,
        # so a (district_id, valid_to) index only slowed every bulk write (dropped in 0006).
        sa.PrimaryKeyConstraint("district_id", "sourcedId", "valid_from", name=f"pk_{name}"),
        *_current_lookup_indexes(name, entity.name),
        sa.Index(f"ix_{name}_modified", "district_id", sa.text(MODIFIED_SQL)),
        # On PostgreSQL each district's rows are a partition of their own: a district's first
        # publish loads a fresh table and builds its indexes after the load (store/_partitions),
        # and one district's size never slows another's index lookups.
        postgresql_partition_by="LIST (district_id)",
    )


#: entity name → its versioned roster table, derived from the canonical model.
roster_tables: Final[dict[str, sa.Table]] = {
    name: _roster_table(entity) for name, entity in ENTITIES.items()
}


# --- console: browser sessions of admin accounts (migration ``0017_console_sessions``) ---------
#: A signed-in browser: only the SHA-256 of the session cookie's value is kept, so a copy of the
#: database signs no one in. ``last_seen_at`` drives the idle expiry, ``created_at`` the absolute
#: one (``admin/sessions.py``); rows of an account go with it.
admin_sessions = sa.Table(
    "admin_sessions",
    metadata,
    sa.Column("id_hash", sa.Text, primary_key=True),
    sa.Column(
        "account_id",
        sa.Integer,
        sa.ForeignKey("admin_accounts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("address", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    #: The district the console shows (the district switcher), NULL before one is picked; not
    #: named ``district_id``, so deleting that district does not sign its admins out.
    sa.Column(
        "shown_district_id",
        sa.Integer,
        sa.ForeignKey("districts.id", ondelete="SET NULL"),
        nullable=True,
    ),
    sa.Index("ix_admin_sessions_account", "account_id"),
)


# --- Gradebook: OneRoster 1.2 Gradebook objects, and their write-back to the SIS -------------
#: The IDs of gradebook objects compare bytewise on PostgreSQL, as the roster's IDs do.
_GRADEBOOK_ID = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")

#: Categories, line items, results and score scales, as apps wrote them (PUT/POST) or as the
#: SIS's gradebook was read in import mode (``origin`` ``sis``). Not versioned: a write is the
#: current state, a DELETE marks it ``tobedeleted``. The reference columns are copies of the
#: object's references (``body`` holds the whole object), for lookups, sharing and filters.
gradebook_objects = sa.Table(
    "gradebook_objects",
    metadata,
    sa.Column(
        "district_id", sa.Integer, sa.ForeignKey("districts.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("sourcedId", _GRADEBOOK_ID, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("dateLastModified", sa.DateTime(timezone=True), nullable=False),
    sa.Column("title", sa.Text, nullable=True),
    sa.Column("classSourcedId", _GRADEBOOK_ID, nullable=True),
    sa.Column("schoolSourcedId", _GRADEBOOK_ID, nullable=True),
    sa.Column("lineItemSourcedId", _GRADEBOOK_ID, nullable=True),
    sa.Column("studentSourcedId", _GRADEBOOK_ID, nullable=True),
    sa.Column("categorySourcedId", _GRADEBOOK_ID, nullable=True),
    sa.Column("academicSessionSourcedId", _GRADEBOOK_ID, nullable=True),
    sa.Column("scoreScaleSourcedId", _GRADEBOOK_ID, nullable=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("origin", sa.Text, nullable=False),
    sa.PrimaryKeyConstraint("district_id", "kind", "sourcedId", name="pk_gradebook_objects"),
    sa.Index("ix_gradebook_objects_class", "district_id", "kind", "classSourcedId"),
    sa.Index("ix_gradebook_objects_line_item", "district_id", "lineItemSourcedId"),
    sa.Index("ix_gradebook_objects_student", "district_id", "studentSourcedId"),
)

#: Write-back: which SIS object each of our line items and results became, and what was last
#: written there (``written``, a digest) and seen there (``seen``: the SIS's own value when we
#: last wrote or read it, to tell a teacher's edit in the SIS from ours).
gradebook_writeback_links = sa.Table(
    "gradebook_writeback_links",
    metadata,
    sa.Column(
        "district_id", sa.Integer, sa.ForeignKey("districts.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("sourcedId", _GRADEBOOK_ID, nullable=False),
    sa.Column("sis_id", sa.Text, nullable=False),
    sa.Column("written", sa.Text, nullable=False),
    sa.Column("seen", sa.Text, nullable=True),
    sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint(
        "district_id", "source", "kind", "sourcedId", name="pk_gradebook_writeback_links"
    ),
)

#: The per-district write-back log: what was sent, when, and the SIS's answer.
gradebook_writeback_log = sa.Table(
    "gradebook_writeback_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "district_id", sa.Integer, sa.ForeignKey("districts.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("sourcedId", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("http_status", sa.Integer, nullable=True),
    sa.Column("answer", sa.Text, nullable=True),
    sa.Index("ix_gradebook_writeback_log_district_at", "district_id", "at"),
)

#: Mass grade changes held for approval: one app changed more than the threshold of a class's
#: scores within the window; nothing of that class and app is written back until approved.
gradebook_writeback_holds = sa.Table(
    "gradebook_writeback_holds",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "district_id", sa.Integer, sa.ForeignKey("districts.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("classSourcedId", sa.Text, nullable=False),
    sa.Column("origin", sa.Text, nullable=False),
    sa.Column("changed", sa.Integer, nullable=False),
    sa.Column("total", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("decision", sa.Text, nullable=True),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("decided_by", sa.Text, nullable=True),
)


# --- Incremental extraction (issue #15) ---------------------------------------------------------

#: Per (district, source), what an incremental connector folds its next extraction into: the
#: source frames of the last extraction (a zip of Arrow IPC files), the change-tracking cursor
#: they are current to, what they were read for, and when the last full pull was.
extraction_baselines = sa.Table(
    "extraction_baselines",
    metadata,
    sa.Column(
        "district_id",
        sa.Integer,
        sa.ForeignKey("districts.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("source", sa.Text, primary_key=True),
    sa.Column("cursor", sa.Text, nullable=False),
    sa.Column("fingerprint", sa.Text, nullable=False),
    sa.Column("full_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("run_id", sa.Integer, nullable=True),
    sa.Column("frames", sa.LargeBinary, nullable=False),
)

# --- Events feed (issue #15) -------------------------------------------------------------------

#: One row per record created, updated or deleted by a published version, in publish order
#: (``id`` is the feed's cursor). ``role`` and ``schools`` (JSON list; NULL: not bound to a
#: school, such as the district's calendar) are what the per-app sharing rules need to decide
#: who may see the event without reading the record again.
roster_events = sa.Table(
    "roster_events",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column(
        "district_id",
        sa.Integer,
        sa.ForeignKey("districts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("entity", sa.Text, nullable=False),
    sa.Column("sourced_id", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=True),
    sa.Column("schools", sa.Text, nullable=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_roster_events_district", "district_id", "id"),
)

#: Per district, the newest version whose events are in ``roster_events``.
roster_event_marks = sa.Table(
    "roster_event_marks",
    metadata,
    sa.Column(
        "district_id",
        sa.Integer,
        sa.ForeignKey("districts.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("version", sa.Integer, nullable=False),
    #: The newest event id dropped past the retention period (a cursor below it lost events).
    sa.Column("pruned_below", sa.BigInteger, nullable=True),
)

# --- Early access (issue #15) ------------------------------------------------------------------

#: Per district, whether data of a school year that has not begun yet is published (an opt-in
#: an admin makes deliberately, audited); no row = not opted in.
early_access = sa.Table(
    "early_access",
    metadata,
    sa.Column(
        "district_id",
        sa.Integer,
        sa.ForeignKey("districts.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("opted_in", sa.Boolean, nullable=False),
    sa.Column("changed_by", sa.Text, nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("note", sa.Text, nullable=True),
)

#: Per (district, source), the first day of the next school year in the SIS's calendar as last
#: extracted — before early access holds that year back from the published version — so the
#: first-day-of-school sync is scheduled from the SIS, not only from what was published.
sis_calendars = sa.Table(
    "sis_calendars",
    metadata,
    sa.Column(
        "district_id",
        sa.Integer,
        sa.ForeignKey("districts.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("source", sa.Text, primary_key=True),
    sa.Column("first_day", sa.Date, nullable=True),
    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
)


# --- Re-linking and manual match: kept decisions about which records are one (0020) ----------
#: ``relink``: a sync found that the source renumbered ``from_id`` (published as ``to_id``);
#: ``link``: an admin merged ``from_id`` into ``to_id``; ``apart``: an admin split the two, and
#: they are never re-linked. A reversed decision keeps its row with ``ended_at``/``ended_by``.
record_links = sa.Table(
    "record_links",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "district_id",
        sa.Integer,
        sa.ForeignKey("districts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("entity", sa.Text, nullable=False),
    sa.Column("from_id", sa.Text, nullable=False),
    sa.Column("to_id", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("confidence", sa.Float, nullable=True),
    sa.Column("detail", sa.Text, nullable=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="SET NULL"), nullable=True),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("ended_by", sa.Text, nullable=True),
    sa.Index("ix_record_links_district", "district_id", "entity", "from_id"),
)
