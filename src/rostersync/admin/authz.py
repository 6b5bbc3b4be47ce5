"""Authorization in one place: what a caller may see and do, and district queries scoped to it.

Every read of district data by the management API goes through :func:`scope` (a query limited
to the caller's districts) or :func:`require` (one district, one action). A district outside the
caller's grants is reported exactly like a district that does not exist, so an admin of one
district learns nothing about another, not even that it exists.

============== =================== =================== ==================================
role           districts           change them         installation (admins, keys)
============== =================== =================== ==================================
operator       every one           yes                 yes
district_admin the granted ones    yes                 no
viewer         the granted ones    no (read only)      no
============== =================== =================== ==================================
"""

from __future__ import annotations

from typing import Literal, TypeVar

import sqlalchemy as sa

from rostersync.admin.accounts import Account
from rostersync.admin.errors import PermissionDenied
from rostersync.errors import ConfigurationError

Action = Literal["read", "write"]
S = TypeVar("S", bound=sa.Select[object])


def sees_district(caller: Account, district_id: int) -> bool:
    return caller.role == "operator" or district_id in caller.districts


def scope(caller: Account, stmt: S, district_column: sa.ColumnElement[int]) -> S:
    """``stmt`` limited to the rows of the districts ``caller`` may see."""
    if caller.role == "operator":
        return stmt
    return stmt.where(district_column.in_(sorted(caller.districts)))


def require(caller: Account, action: Action, district_id: int | None) -> None:
    """Allow ``action`` on ``district_id`` (None: the installation) or raise.

    Out-of-scope districts raise the same error as a missing one; a viewer's write and a
    non-operator's installation action raise :class:`PermissionDenied`.
    """
    if district_id is None:
        if caller.role == "operator" or (action == "read" and caller.role == "viewer"):
            return
        raise PermissionDenied(
            f"{caller.name} ({caller.role}) may not change the installation",
            hint="ask an operator",
        )
    if not sees_district(caller, district_id):
        raise ConfigurationError(
            f"No district {str(district_id)!r}", hint="see `rostersync districts list`"
        )
    if action == "write" and caller.role == "viewer":
        raise PermissionDenied(f"{caller.name} is a viewer: read-only access")
