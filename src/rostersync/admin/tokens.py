"""Personal API tokens of admin accounts: random, shown once, stored hashed, expiring, revocable.

A token is ``rst_`` followed by 43 random URL-safe characters (256 bits). Only its SHA-256 is
stored (a token is not a password: it has full entropy, so a fast hash is enough and lookups
stay indexed); the first characters are kept to tell tokens apart in lists.
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
from rostersync.errors import ConfigurationError
from rostersync.store import Store
from rostersync.store.engine import translate_errors
from rostersync.store.schema import admin_tokens

PREFIX = "rst_"
MAX_DAYS = 366
SHOWN = 10  # characters of a token kept to recognise it


@dataclass(frozen=True)
class TokenInfo:
    """A token as it may be listed: never the token itself."""

    id: int
    account_id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Tokens:
    """Create, list, revoke and check personal API tokens."""

    def __init__(self, store: Store, accounts: Accounts) -> None:
        self.store = store
        self.accounts = accounts
        self.engine = store.engine

    def create(self, account_name: str, name: str, *, days: int, actor: str) -> tuple[str, int]:
        """(the token, shown only now; its id). ``days`` until it expires (1–366)."""
        account = self.accounts.get(account_name)
        if not 1 <= days <= MAX_DAYS:
            raise ConfigurationError(
                f"--days: {days} is outside 1–{MAX_DAYS}",
                setting="--days",
                hint="tokens expire; create a new one when it does",
            )
        if not name.strip() or len(name) > 100:
            raise ConfigurationError(
                "--name: give the token a name of 1–100 characters (what it is for)",
                setting="--name",
            )
        token = PREFIX + secrets.token_urlsafe(32)
        now = utcnow()
        with translate_errors(self.engine), self.engine.begin() as conn:
            token_id = conn.execute(
                admin_tokens.insert()
                .values(
                    account_id=account.id,
                    name=name.strip(),
                    prefix=token[:SHOWN],
                    token_hash=token_hash(token),
                    created_at=now,
                    expires_at=now + timedelta(days=days),
                )
                .returning(admin_tokens.c.id)
            ).scalar_one()
        self.store.audit(
            actor, "admin.token_create", None, account=account.name, token_id=token_id, days=days
        )
        return token, token_id

    def list_tokens(self, account_name: str | None = None) -> list[TokenInfo]:
        stmt = sa.select(admin_tokens).order_by(admin_tokens.c.id)
        if account_name is not None:
            stmt = stmt.where(admin_tokens.c.account_id == self.accounts.get(account_name).id)
        with translate_errors(self.engine), self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return [
            TokenInfo(
                r.id,
                r.account_id,
                r.name,
                r.prefix,
                as_utc(r.created_at) or utcnow(),
                as_utc(r.expires_at) or utcnow(),
                as_utc(r.revoked_at),
                as_utc(r.last_used_at),
            )
            for r in rows
        ]

    def revoke(self, token_id: int, *, actor: str) -> None:
        """Revoke a token at once; a clear error when there is no such live token."""
        with translate_errors(self.engine), self.engine.begin() as conn:
            done = conn.execute(
                admin_tokens.update()
                .where(admin_tokens.c.id == token_id, admin_tokens.c.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            ).rowcount
        if not done:
            raise ConfigurationError(
                f"No token {token_id} that is not revoked already",
                hint="see `rostersync admins token-list`",
            )
        self.store.audit(actor, "admin.token_revoke", None, token_id=token_id)

    def authenticate(self, token: str) -> Account:
        """The account a token belongs to; :class:`AuthenticationFailed` when it is unknown,
        revoked or expired (checked on every use, so a revocation takes effect at once)."""
        digest = token_hash(token)
        with translate_errors(self.engine), self.engine.connect() as conn:
            row = conn.execute(
                sa.select(admin_tokens).where(admin_tokens.c.token_hash == digest)
            ).first()
        if row is None or not hmac.compare_digest(row.token_hash, digest):
            raise AuthenticationFailed("Unknown API token")
        if row.revoked_at is not None:
            raise AuthenticationFailed("This API token was revoked", hint="create a new one")
        if (as_utc(row.expires_at) or utcnow()) <= utcnow():
            raise AuthenticationFailed("This API token has expired", hint="create a new one")
        with translate_errors(self.engine), self.engine.begin() as conn:
            conn.execute(
                admin_tokens.update()
                .where(admin_tokens.c.id == row.id)
                .values(last_used_at=utcnow())
            )
        account = self.accounts.by_id(row.account_id)
        if account is None:  # the account was deleted (its tokens go with it)
            raise AuthenticationFailed("Unknown API token")
        return account
