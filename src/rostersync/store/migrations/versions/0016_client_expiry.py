"""API clients: an expiry date, and sensitive data shared only when granted.

New clients see the roster core only; demographics, birth dates, state IDs, addresses and
guardians' contact details need a grant by name. Clients issued before this revision keep what
they had: their stored sharing rules are given every sensitive category explicitly, so their
summaries show it. The downgrade drops the expiry and the categories (clients then see all, as
before).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 04:30:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The categories as of this revision (a migration does not import the application).
CATEGORIES = ["addresses", "birth_dates", "contact_details", "demographics", "state_ids"]

_clients = sa.table("api_clients", sa.column("id", sa.Integer), sa.column("sharing", sa.Text))


def _rewrite(grant: bool) -> None:
    conn = op.get_bind()
    for row in conn.execute(sa.select(_clients.c.id, _clients.c.sharing)).all():
        rules = json.loads(row.sharing or "{}") or {}
        if grant:
            rules["sensitive"] = CATEGORIES
        else:
            rules.pop("sensitive", None)
        conn.execute(
            _clients.update()
            .where(_clients.c.id == row.id)
            .values(sharing=json.dumps(rules, sort_keys=True))
        )


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("api_clients") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    _rewrite(grant=True)


def downgrade() -> None:
    """Downgrade schema."""
    _rewrite(grant=False)
    with op.batch_alter_table("api_clients") as batch:
        batch.drop_column("expires_at")
