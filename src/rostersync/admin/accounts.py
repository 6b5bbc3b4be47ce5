"""Admin accounts and their roles: who may manage which districts.

Roles: ``operator`` (every district and the installation's settings), ``district_admin`` (the
districts granted to the account) and ``viewer`` (read-only, the audit log included, on the
districts granted to it). Passwords are stored as argon2id hashes; there is no default password:
the first operator is created with ``rostersync admins create --role operator``. An optional
TOTP second factor keeps its seed encrypted by the secret store's key, bound to the account.
"""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import argon2
import pyotp
import sqlalchemy as sa
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from rostersync.admin.errors import AuthenticationFailed
from rostersync.admin.ratelimit import LoginBackoff
from rostersync.admin.secrets import SecretStore, totp_aad
from rostersync.clock import as_utc, utcnow
from rostersync.errors import ConfigurationError
from rostersync.settings import Settings
from rostersync.store import Store
from rostersync.store.engine import translate_errors
from rostersync.store.schema import admin_accounts, admin_grants, districts

Role = Literal["operator", "district_admin", "viewer"]
ROLES: tuple[Role, ...] = ("operator", "district_admin", "viewer")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,99}$")
MIN_PASSWORD = 12
MAX_PASSWORD = 1024

#: argon2id with the library's current recommended parameters (RFC 9106 low-memory profile).
_hasher = argon2.PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the account does not exist, so timing does not tell names apart
    (made on first use: hashing costs memory and time every command would otherwise pay)."""
    return _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Account:
    """An admin account as the rest of the program sees it (never its hash or TOTP seed)."""

    id: int
    name: str
    role: Role
    districts: frozenset[int] = field(default_factory=frozenset)
    totp: bool = False
    created_at: datetime | None = None


def check_role(role: str) -> Role:
    if role not in ROLES:
        raise ConfigurationError(
            f"--role: unknown role {role!r}", setting="--role", hint=f"use {', '.join(ROLES)}"
        )
    return role


def check_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise ConfigurationError(
            f"Admin name {name!r} is not allowed",
            setting="NAME",
            hint="use 1–100 letters, digits and . _ @ + - (an e-mail address works)",
        )
    return name


def check_password(password: str, name: str) -> str:
    """A password good enough to protect pupils' data: long, and not the account's name."""
    if len(password) < MIN_PASSWORD:
        raise ConfigurationError(
            f"The password is too short (fewer than {MIN_PASSWORD} characters)",
            hint="use a passphrase of several words",
        )
    if len(password) > MAX_PASSWORD:
        raise ConfigurationError(f"The password is longer than {MAX_PASSWORD} characters")
    if name.lower() in password.lower():
        raise ConfigurationError("The password contains the account's name")
    return password


class Accounts:
    """Create, list, grant, revoke, re-password and authenticate admin accounts."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.engine = store.engine

    # -- reading --------------------------------------------------------------------------------

    def _grants(self, conn: sa.Connection, ids: Iterable[int]) -> dict[int, set[int]]:
        found: dict[int, set[int]] = {}
        rows = conn.execute(
            sa.select(admin_grants.c.account_id, admin_grants.c.district_id).where(
                admin_grants.c.account_id.in_(list(ids))
            )
        )
        for account_id, district_id in rows:
            found.setdefault(account_id, set()).add(district_id)
        return found

    def _account(self, row: sa.Row[object], grants: dict[int, set[int]]) -> Account:
        r = row._mapping
        created = r["created_at"]
        return Account(
            r["id"],
            r["name"],
            r["role"],
            frozenset(grants.get(r["id"], set())),
            r["totp_secret"] is not None,
            as_utc(created),
        )

    def list_accounts(self) -> list[Account]:
        """Every account, by name."""
        with translate_errors(self.engine), self.engine.connect() as conn:
            rows = conn.execute(sa.select(admin_accounts).order_by(admin_accounts.c.name)).all()
            grants = self._grants(conn, [r.id for r in rows])
        return [self._account(r, grants) for r in rows]

    def get(self, name: str) -> Account:
        """The account named ``name``; a clear error when there is none."""
        found = self.find(name)
        if found is None:
            raise ConfigurationError(
                f"No admin account {name!r}", hint="see `rostersync admins list`"
            )
        return found

    def find(self, name: str) -> Account | None:
        with translate_errors(self.engine), self.engine.connect() as conn:
            row = conn.execute(
                sa.select(admin_accounts).where(admin_accounts.c.name == name)
            ).first()
            if row is None:
                return None
            return self._account(row, self._grants(conn, [row.id]))

    def by_id(self, account_id: int) -> Account | None:
        with translate_errors(self.engine), self.engine.connect() as conn:
            row = conn.execute(
                sa.select(admin_accounts).where(admin_accounts.c.id == account_id)
            ).first()
            if row is None:
                return None
            return self._account(row, self._grants(conn, [row.id]))

    # -- changing -------------------------------------------------------------------------------

    def create(
        self,
        name: str,
        role: str,
        password: str,
        *,
        actor: str,
        districts_granted: Iterable[int] = (),
    ) -> Account:
        """A new account; its password is hashed with argon2id and never stored or audited."""
        check_name(name)
        checked_role = check_role(role)
        check_password(password, name)
        if self.find(name) is not None:
            raise ConfigurationError(
                f"An admin account named {name!r} already exists",
                hint="pick another name, or `rostersync admins reset-password`",
            )
        now = utcnow()
        with translate_errors(self.engine), self.engine.begin() as conn:
            account_id = conn.execute(
                admin_accounts.insert()
                .values(
                    name=name,
                    role=checked_role,
                    password_hash=_hasher.hash(password),
                    created_at=now,
                    updated_at=now,
                )
                .returning(admin_accounts.c.id)
            ).scalar_one()
            for district_id in set(districts_granted):
                conn.execute(
                    admin_grants.insert().values(
                        account_id=account_id, district_id=district_id, granted_at=now
                    )
                )
        self.store.audit(actor, "admin.create", None, name=name, role=checked_role)
        return self.get(name)

    def grant(self, name: str, district_id: int, *, actor: str) -> bool:
        """Grant a district to a district admin or viewer; False when it already had it."""
        account = self.get(name)
        if account.role == "operator":
            raise ConfigurationError(
                f"{name} is an operator: operators manage every district already",
                hint="grant districts to district_admin or viewer accounts",
            )
        if district_id in account.districts:
            return False
        with translate_errors(self.engine), self.engine.begin() as conn:
            conn.execute(
                admin_grants.insert().values(
                    account_id=account.id, district_id=district_id, granted_at=utcnow()
                )
            )
        self.store.audit(actor, "admin.grant", district_id, name=name)
        return True

    def revoke(self, name: str, district_id: int, *, actor: str) -> bool:
        """Take a district away from an account; False when it did not have it."""
        account = self.get(name)
        with translate_errors(self.engine), self.engine.begin() as conn:
            gone = conn.execute(
                admin_grants.delete().where(
                    admin_grants.c.account_id == account.id,
                    admin_grants.c.district_id == district_id,
                )
            ).rowcount
        if gone:
            self.store.audit(actor, "admin.revoke", district_id, name=name)
        return bool(gone)

    def reset_password(self, name: str, password: str, *, actor: str) -> None:
        """Set a new password (the old one stops working at once)."""
        account = self.get(name)
        check_password(password, name)
        with translate_errors(self.engine), self.engine.begin() as conn:
            conn.execute(
                admin_accounts.update()
                .where(admin_accounts.c.id == account.id)
                .values(password_hash=_hasher.hash(password), updated_at=utcnow())
            )
        self.store.audit(actor, "admin.reset_password", None, name=name)

    @staticmethod
    def new_totp_seed() -> str:
        """A fresh TOTP key, to be shown to the admin and confirmed with a code."""
        return pyotp.random_base32()

    @staticmethod
    def totp_uri(name: str, seed: str) -> str:
        """The ``otpauth://`` URI an authenticator app reads for ``seed``."""
        return pyotp.TOTP(seed).provisioning_uri(name=name, issuer_name="rostersync")

    def enable_totp(
        self, name: str, *, actor: str, seed: str | None = None, code: str | None = None
    ) -> str:
        """Give the account a TOTP seed; returns its ``otpauth://`` URI.

        With ``seed`` (a key shown earlier by :meth:`new_totp_seed`), ``code`` must be the
        authenticator's current code for it: a key the admin never added to an app would lock
        them out at their next sign-in. Without one, a new seed is made and switched on at once
        (``admins create --totp``, whose operator hands the URI over).
        """
        account = self.get(name)
        if seed is not None:
            valid = len(seed) <= 128 and re.fullmatch(r"[A-Z2-7]{16,128}", seed) is not None
            if not valid or code is None or not pyotp.TOTP(seed).verify(code, valid_window=1):
                raise ConfigurationError(
                    "Code: it does not match the new key; nothing changed",
                    setting="code",
                    hint="add the key to your authenticator app, then type the code it shows "
                    "now (the codes change every 30 seconds)",
                )
        else:
            seed = pyotp.random_base32()
        blob, _ = SecretStore(self.store, self.settings).encrypt(seed, totp_aad(account.id))
        with translate_errors(self.engine), self.engine.begin() as conn:
            conn.execute(
                admin_accounts.update()
                .where(admin_accounts.c.id == account.id)
                .values(totp_secret=blob, updated_at=utcnow())
            )
        self.store.audit(actor, "admin.totp_enable", None, name=name)
        return self.totp_uri(name, seed)

    def district_names(self, account: Account) -> list[str]:
        if not account.districts:
            return []
        with translate_errors(self.engine), self.engine.connect() as conn:
            return list(
                conn.execute(
                    sa.select(districts.c.name)
                    .where(districts.c.id.in_(account.districts))
                    .order_by(districts.c.name)
                ).scalars()
            )

    # -- signing in -----------------------------------------------------------------------------

    def authenticate(
        self, name: str, password: str, *, address: str, totp_code: str | None = None
    ) -> Account:
        """The account when name, password (and TOTP code, if it has one) are right.

        Failures are counted per account and address (:class:`LoginBackoff`) and audited;
        the error never says which part was wrong.
        """
        backoff = LoginBackoff(self.engine)
        backoff.check(name, address)
        with translate_errors(self.engine), self.engine.connect() as conn:
            row = conn.execute(
                sa.select(admin_accounts).where(admin_accounts.c.name == name)
            ).first()
        ok = _verify(row.password_hash if row is not None else _dummy_hash(), password)
        if ok and row is not None and row.totp_secret is not None:
            seed = SecretStore(self.store, self.settings).decrypt(
                bytes(row.totp_secret), totp_aad(row.id), f"TOTP seed of {name}"
            )
            ok = totp_code is not None and pyotp.TOTP(seed).verify(totp_code, valid_window=1)
        if not ok or row is None:
            backoff.failed(name, address)
            self.store.audit(name, "admin.login_failed", None, address=address)
            raise AuthenticationFailed("Wrong name, password or code")
        backoff.succeeded(name, address)
        if _hasher.check_needs_rehash(row.password_hash):
            with translate_errors(self.engine), self.engine.begin() as conn:
                conn.execute(
                    admin_accounts.update()
                    .where(admin_accounts.c.id == row.id)
                    .values(password_hash=_hasher.hash(password))
                )
        self.store.audit(name, "admin.login", None, address=address)
        return self.get(name)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
