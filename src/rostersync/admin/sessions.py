"""Browser sessions of admin accounts: server-side, rotated at login, with idle and absolute expiry.

The console's cookie holds a random session id (256 bits); the store keeps only its SHA-256, so
a copy of the database signs no one in. A session ends when it has not been used for
:data:`IDLE` or was started more than :data:`ABSOLUTE` ago, whichever comes first, and at
logout. Signing in always starts a new session and ends the one the browser had, so an id
planted before login (session fixation) is worth nothing after it.

Each session has a CSRF token, derived from its id (HMAC), never stored: a form must send it
back for any state-changing request (:meth:`Session.csrf_matches`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from rostersync.admin.accounts import Account, Accounts
from rostersync.admin.errors import AuthenticationFailed
from rostersync.clock import as_utc, utcnow
from rostersync.store import Store
from rostersync.store.engine import translate_errors
from rostersync.store.schema import admin_sessions

#: A session unused for this long has ended.
IDLE = timedelta(minutes=30)
#: A session started this long ago has ended, however busy it was.
ABSOLUTE = timedelta(hours=12)
#: ``last_seen_at`` is written at most this often (not on every request).
TOUCH_EVERY = timedelta(minutes=1)


def session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Session:
    """A live session: its id (the cookie's value, held in memory only) and its account."""

    id: str
    account: Account
    created_at: datetime
    last_seen_at: datetime
    shown_district_id: int | None = None

    @property
    def csrf_token(self) -> str:
        """The token the session's forms carry (derived from the id; changes with it)."""
        return hmac.new(self.id.encode("utf-8"), b"csrf", hashlib.sha256).hexdigest()

    def csrf_matches(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(self.csrf_token, given)


class Sessions:
    """Start, resume and end browser sessions (the state is in the store, for every process)."""

    def __init__(
        self,
        store: Store,
        accounts: Accounts,
        *,
        idle: timedelta = IDLE,
        absolute: timedelta = ABSOLUTE,
        now: datetime | None = None,
    ) -> None:
        self.store = store
        self.accounts = accounts
        self.engine = store.engine
        self.idle = idle
        self.absolute = absolute
        self._now = now

    def now(self) -> datetime:
        return self._now or utcnow()

    def start(self, account: Account, *, address: str, replacing: str | None = None) -> Session:
        """A new session for ``account`` (who has just signed in); ends ``replacing``, the
        session the browser had before, and every expired session of the installation."""
        session_id = secrets.token_urlsafe(32)
        now = self.now()
        with translate_errors(self.engine), self.engine.begin() as conn:
            if replacing:
                conn.execute(
                    admin_sessions.delete().where(
                        admin_sessions.c.id_hash == session_hash(replacing)
                    )
                )
            conn.execute(
                admin_sessions.delete().where(
                    sa.or_(
                        admin_sessions.c.created_at <= now - self.absolute,
                        admin_sessions.c.last_seen_at <= now - self.idle,
                    )
                )
            )
            conn.execute(
                admin_sessions.insert().values(
                    id_hash=session_hash(session_id),
                    account_id=account.id,
                    address=address,
                    created_at=now,
                    last_seen_at=now,
                )
            )
        return Session(session_id, account, now, now)

    def resume(self, session_id: str) -> Session:
        """The live session of this id; :class:`AuthenticationFailed` saying why when there is
        none (unknown, ended, idle too long, too old). Using it keeps it alive."""
        digest = session_hash(session_id)
        now = self.now()
        with translate_errors(self.engine), self.engine.connect() as conn:
            row = conn.execute(
                sa.select(admin_sessions).where(admin_sessions.c.id_hash == digest)
            ).first()
        if row is None:
            raise AuthenticationFailed("You are not signed in", hint="sign in")
        created = as_utc(row.created_at)
        seen = as_utc(row.last_seen_at)
        why = None
        if now - created >= self.absolute:
            why = f"Your session ended after {_span(self.absolute)}"
        elif now - seen >= self.idle:
            why = f"Your session ended after {_span(self.idle)} without use"
        account = None if why else self.accounts.by_id(row.account_id)
        if why or account is None:
            self._delete(digest)
            raise AuthenticationFailed(why or "You are not signed in", hint="sign in again")
        if now - seen >= TOUCH_EVERY:
            with translate_errors(self.engine), self.engine.begin() as conn:
                conn.execute(
                    admin_sessions.update()
                    .where(admin_sessions.c.id_hash == digest)
                    .values(last_seen_at=now)
                )
            seen = now
        return Session(session_id, account, created, seen, row.shown_district_id)

    def show_district(self, session: Session, district_id: int | None) -> None:
        """Remember the district the console shows this session (the district switcher)."""
        with translate_errors(self.engine), self.engine.begin() as conn:
            conn.execute(
                admin_sessions.update()
                .where(admin_sessions.c.id_hash == session_hash(session.id))
                .values(shown_district_id=district_id)
            )

    def end(self, session_id: str) -> bool:
        """Sign out: the session stops working at once. False when it was not live."""
        return self._delete(session_hash(session_id))

    def end_all(self, account_id: int) -> int:
        """End every session of an account (after its password changes); how many ended."""
        with translate_errors(self.engine), self.engine.begin() as conn:
            return int(
                conn.execute(
                    admin_sessions.delete().where(admin_sessions.c.account_id == account_id)
                ).rowcount
            )

    def _delete(self, digest: str) -> bool:
        with translate_errors(self.engine), self.engine.begin() as conn:
            gone = conn.execute(
                admin_sessions.delete().where(admin_sessions.c.id_hash == digest)
            ).rowcount
        return bool(gone)


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minutes"
