"""Login backoff: failed sign-ins slow down guessing without locking a real user out for good.

Failures are counted per (account, client address). The first few are free; after that each
failure doubles the wait before the next attempt from that address, up to a cap. There is no
permanent lockout: the wait ends on its own, a success clears the count, and a stranger hammering
an account from elsewhere only slows their own address, never the owner's.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from rostersync.admin.errors import LoginThrottled
from rostersync.clock import as_utc, utcnow
from rostersync.store.engine import translate_errors
from rostersync.store.schema import login_failures

FREE_FAILURES = 3
BASE_DELAY = timedelta(seconds=1)
MAX_DELAY = timedelta(minutes=15)
#: A count untouched for this long starts again from zero.
FORGET_AFTER = timedelta(hours=24)


def delay_after(failures: int) -> timedelta:
    """The wait imposed after ``failures`` consecutive failures (0 for the free ones)."""
    if failures <= FREE_FAILURES:
        return timedelta(0)
    exponent = min(failures - FREE_FAILURES - 1, 20)
    return min(BASE_DELAY * (1 << exponent), MAX_DELAY)


class LoginBackoff:
    """The backoff state in the store (shared by every server process)."""

    def __init__(self, engine: Engine, *, now: datetime | None = None) -> None:
        self.engine = engine
        self._now = now

    def now(self) -> datetime:
        return self._now or utcnow()

    def _row(self, conn: sa.Connection, account: str, address: str) -> sa.Row[object] | None:
        return conn.execute(
            sa.select(login_failures).where(
                login_failures.c.account == account, login_failures.c.address == address
            )
        ).first()

    def check(self, account: str, address: str) -> None:
        """Raise :class:`LoginThrottled` while this address must wait for this account."""
        with translate_errors(self.engine), self.engine.connect() as conn:
            row = self._row(conn, account, address)
        if row is None:
            return
        wait = (as_utc(row._mapping["blocked_until"]) - self.now()).total_seconds()
        if wait > 0:
            raise LoginThrottled(wait)

    def failed(self, account: str, address: str) -> timedelta:
        """Count a failure; returns the wait it imposes."""
        now = self.now()
        with translate_errors(self.engine), self.engine.begin() as conn:
            row = self._row(conn, account, address)
            failures = 1
            if row is not None:
                last = as_utc(row._mapping["blocked_until"])
                stale = now - last > FORGET_AFTER
                failures = 1 if stale else int(row._mapping["failures"]) + 1
            wait = delay_after(failures)
            values = {"failures": failures, "blocked_until": now + wait}
            if row is None:
                conn.execute(
                    login_failures.insert().values(account=account, address=address, **values)
                )
            else:
                conn.execute(
                    login_failures.update()
                    .where(login_failures.c.account == account, login_failures.c.address == address)
                    .values(**values)
                )
        return wait

    def succeeded(self, account: str, address: str) -> None:
        """A successful sign-in clears the count of this address."""
        with translate_errors(self.engine), self.engine.begin() as conn:
            conn.execute(
                login_failures.delete().where(
                    login_failures.c.account == account, login_failures.c.address == address
                )
            )
