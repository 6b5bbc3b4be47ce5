"""Errors of the management plane, in the one error tree (:mod:`rostersync.errors`)::

    RostersyncError
    ├── AuthenticationFailed   wrong name, password, second factor or token (HTTP 401)
    │   └── LoginThrottled     too many failures from this address: retry after a delay (429)
    └── PermissionDenied       the caller's role does not allow the action (HTTP 403)

A district outside the caller's grants is reported as not existing (the store's own "No
district" error), so an admin of one district learns nothing about another.
"""

from __future__ import annotations

from rostersync.errors import RostersyncError


class AuthenticationFailed(RostersyncError):
    """The credentials were not accepted; the message never says which part was wrong."""

    exit_code = 3


class LoginThrottled(AuthenticationFailed):
    """Too many failed logins for this account from this address; try again later."""

    transient = True

    def __init__(self, retry_after: float) -> None:
        seconds = max(1, round(retry_after))
        super().__init__(
            f"Too many failed sign-ins: try again in {seconds} s",
            hint="the wait doubles with each failure and is capped; it ends on its own",
        )
        self.retry_after = seconds


class PermissionDenied(RostersyncError):
    """The caller is signed in but its role does not allow this action."""

    exit_code = 4
