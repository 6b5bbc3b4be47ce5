"""Tables of change approval: each run's change set as Parquet, and threshold overrides.

They live in the store's database (migration ``0003_changes``) but are declared here, on their
own ``MetaData``, because only this package reads or writes them.

- ``change_set_frames``: per run, entity and part (``added``, ``updated``, ``updated_before``,
  ``deleted``, ``fields``) the rows as Parquet bytes. This is how a held run's candidate roster is
  kept for approval: approving publishes ``apply(last accepted version, change set)`` — equal to
  the candidate (a property-tested law), and stored in proportion to the changes, not to the
  roster. Approval is refused when the roster moved on since, so the base is always the same.
- ``hold_overrides``: time-boxed "allow over threshold until DATE" grants for planned mass
  changes (rollover), with who granted them and why, and who revoked them, when and why
  (migration ``0012_override_revocation``). The latest grant wins (:mod:`.overrides`).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

change_set_frames = sa.Table(
    "change_set_frames",
    metadata,
    sa.Column("run_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("entity", sa.Text, primary_key=True),
    sa.Column("part", sa.Text, primary_key=True),
    sa.Column("row_count", sa.Integer, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

hold_overrides = sa.Table(
    "hold_overrides",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("district_id", sa.Integer, nullable=False, index=True),
    sa.Column("until", sa.Date, nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("revoked_by", sa.Text, nullable=True),
    sa.Column("revoke_reason", sa.Text, nullable=True),
)
