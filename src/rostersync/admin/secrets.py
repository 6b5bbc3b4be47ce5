"""The encrypted secret store behind ``store:NAME`` references (a district's source secrets).

Values are encrypted at rest with AES-256-GCM under the key-encryption key of
``ROSTERSYNC_SECRETS_KEY_FILE``. Each ciphertext is bound to its district and name (they are the
associated data), so a ciphertext copied to another district or name fails to decrypt instead of
leaking there. Values are never logged, audited, listed or put in an error message; listings
show names and dates only.

Key rotation re-encrypts every ciphertext in one database transaction. The new key is written
to ``<key file>.next`` before the transaction and moved over the key file after its commit, so
an interruption leaves either every ciphertext under the old key (the pending file is ignored
and overwritten by the next rotation) or every ciphertext under the new one (readers use the
pending key, and the next rotation or ``secrets list`` completes the move).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from rostersync import fsutil
from rostersync.admin._keys import (
    SETTING,
    DecryptionFailed,
    Key,
    blob_key_id,
    encode,
    keyring,
    load_or_create,
    new_key,
    next_path,
)
from rostersync.clock import as_utc, utcnow
from rostersync.errors import ConfigurationError
from rostersync.settings import Settings
from rostersync.store import Store, open_store
from rostersync.store.engine import translate_errors
from rostersync.store.schema import admin_accounts, stored_secrets

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
MAX_VALUE_BYTES = 64 * 1024


@dataclass(frozen=True)
class SecretInfo:
    """A stored secret as it may be shown: never its value."""

    district_id: int
    name: str
    created_at: datetime
    updated_at: datetime
    key_id: str


def secret_aad(district_id: int, name: str) -> bytes:
    """What a secret's ciphertext is bound to: its district and its name."""
    return f"rostersync-secret\0district={district_id}\0name={name}".encode()


def totp_aad(account_id: int) -> bytes:
    """What an admin's TOTP seed is bound to."""
    return f"rostersync-totp\0account={account_id}".encode()


def check_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise ConfigurationError(
            f"Secret name {name!r} is not allowed",
            setting="NAME",
            hint="use 1–100 letters, digits, '_', '.' or '-', starting with a letter or digit",
        )
    return name


class SecretStore:
    """Set, read, list, delete and re-key the secrets of every district."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    # -- keys -----------------------------------------------------------------------------------

    def _key_for(self, blob: bytes, what: str) -> Key:
        keys = keyring(self.settings)
        key_id = blob_key_id(blob)
        if key_id not in keys:
            path = self.settings.resolved_secrets_key_file
            raise ConfigurationError(
                f"{what} was encrypted under key {key_id}, but the key file {path} holds key "
                f"{', '.join(keys)}",
                setting=SETTING,
                hint="point the setting at the key file the secrets were stored with",
            )
        return keys[key_id]

    def decrypt(self, blob: bytes, aad: bytes, what: str) -> str:
        """The plain value of ``blob``; a clear error (without any value) when it fails."""
        key = self._key_for(blob, what)
        try:
            return key.decrypt(blob, aad).decode("utf-8")
        except DecryptionFailed:
            raise ConfigurationError(
                f"{what} cannot be decrypted: it was not stored for this district and name, "
                "or it was altered",
                hint="set it again with `rostersync secrets set`",
            ) from None

    def encrypt(self, value: str, aad: bytes) -> tuple[bytes, str]:
        key = load_or_create(self.settings)
        return key.encrypt(value.encode("utf-8"), aad), key.key_id

    # -- secrets --------------------------------------------------------------------------------

    def put(self, district_id: int, name: str, value: str, *, actor: str) -> bool:
        """Store (or replace) a secret; True when it replaced one. The value is never audited."""
        check_name(name)
        if not value:
            raise ConfigurationError(
                f"Secret {name!r}: the value is empty", hint="give the value on standard input"
            )
        if len(value.encode("utf-8")) > MAX_VALUE_BYTES:
            raise ConfigurationError(
                f"Secret {name!r}: the value is larger than {MAX_VALUE_BYTES // 1024} KiB",
                hint="store a credential, not a document",
            )
        blob, key_id = self.encrypt(value, secret_aad(district_id, name))
        now = utcnow()
        table = stored_secrets
        with translate_errors(self.store.engine), self.store.engine.begin() as conn:
            # Insert-or-nothing first: two concurrent first sets of one name cannot both
            # insert (the loser's unique violation was a 5xx when this read, then inserted).
            added = conn.execute(
                _insert_new(self.store.engine, table).values(
                    district_id=district_id,
                    name=name,
                    ciphertext=blob,
                    key_id=key_id,
                    created_at=now,
                    updated_at=now,
                )
            ).first()
            replaced = added is None
            if replaced:
                conn.execute(
                    table.update()
                    .where(table.c.district_id == district_id, table.c.name == name)
                    .values(ciphertext=blob, key_id=key_id, updated_at=now)
                )
        self.store.audit(actor, "secret.set", district_id, name=name, replaced=replaced)
        return replaced

    def get(self, district_id: int, name: str) -> str | None:
        """The secret's value, or None when this district has no secret of that name."""
        table = stored_secrets
        with translate_errors(self.store.engine), self.store.engine.connect() as conn:
            blob = conn.execute(
                sa.select(table.c.ciphertext).where(
                    table.c.district_id == district_id, table.c.name == name
                )
            ).scalar_one_or_none()
        if blob is None:
            return None
        return self.decrypt(bytes(blob), secret_aad(district_id, name), f"Secret {name!r}")

    def list_secrets(self, district_id: int | None = None) -> list[SecretInfo]:
        """Names and dates of the stored secrets (of one district, or all), never values."""
        table = stored_secrets
        stmt = sa.select(table).order_by(table.c.district_id, table.c.name)
        if district_id is not None:
            stmt = stmt.where(table.c.district_id == district_id)
        with translate_errors(self.store.engine), self.store.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return [
            SecretInfo(r.district_id, r.name, as_utc(r.created_at), as_utc(r.updated_at), r.key_id)
            for r in rows
        ]

    def delete(self, district_id: int, name: str, *, actor: str) -> bool:
        """Delete a secret; False when there was none of that name."""
        table = stored_secrets
        with translate_errors(self.store.engine), self.store.engine.begin() as conn:
            gone = conn.execute(
                table.delete().where(table.c.district_id == district_id, table.c.name == name)
            ).rowcount
        if gone:
            self.store.audit(actor, "secret.delete", district_id, name=name)
        return bool(gone)

    def lookup(self, district_id: int) -> Callable[[str], str | None]:
        """The ``store_lookup`` of a district's configuration: ``store:NAME`` → its value."""

        def find(name: str) -> str | None:
            return self.get(district_id, name)

        return find

    # -- rotation -------------------------------------------------------------------------------

    def finish_pending_rotation(self) -> None:
        """Move a rotation's new key over the key file once no ciphertext needs the old one."""
        path = self.settings.resolved_secrets_key_file
        pending = next_path(path)
        if not pending.exists():
            return
        new_id = next(iter(keyring(self.settings)))  # the pending key is read first
        in_use = self._key_ids_in_use()
        if in_use and in_use <= {new_id}:  # the rotation committed: finish it
            os.replace(pending, path)
        # Otherwise the rotation did not commit (or is running now): the next one overwrites it.

    def _key_ids_in_use(self) -> set[str]:
        with translate_errors(self.store.engine), self.store.engine.connect() as conn:
            ids = set(conn.execute(sa.select(stored_secrets.c.key_id).distinct()).scalars())
            seeds = conn.execute(
                sa.select(admin_accounts.c.totp_secret).where(
                    admin_accounts.c.totp_secret.is_not(None)
                )
            ).scalars()
            ids |= {blob_key_id(bytes(s)) for s in seeds}
        return ids

    def rotate_key(self, *, actor: str) -> int:
        """Re-encrypt every secret and TOTP seed under a new key, in one transaction.

        Returns how many ciphertexts were re-encrypted.
        """
        self.finish_pending_rotation()
        path = self.settings.resolved_secrets_key_file
        old = load_or_create(self.settings)
        fresh = new_key()
        pending = next_path(path)
        fsutil.atomic_write(pending, encode(fresh))
        count = 0
        table = stored_secrets
        try:
            with translate_errors(self.store.engine), self.store.engine.begin() as conn:
                rows = conn.execute(
                    sa.select(table.c.id, table.c.district_id, table.c.name, table.c.ciphertext)
                ).all()
                for row in rows:
                    what = f"Secret {row.name!r} of district {row.district_id}"
                    value = self.decrypt(
                        bytes(row.ciphertext), secret_aad(row.district_id, row.name), what
                    )
                    blob = fresh.encrypt(value.encode(), secret_aad(row.district_id, row.name))
                    conn.execute(
                        table.update()
                        .where(table.c.id == row.id)
                        .values(ciphertext=blob, key_id=fresh.key_id)
                    )
                    count += 1
                accounts = conn.execute(
                    sa.select(admin_accounts.c.id, admin_accounts.c.totp_secret).where(
                        admin_accounts.c.totp_secret.is_not(None)
                    )
                ).all()
                for account in accounts:
                    aad = totp_aad(account.id)
                    seed = self.decrypt(
                        bytes(account.totp_secret), aad, f"TOTP seed of account {account.id}"
                    )
                    conn.execute(
                        admin_accounts.update()
                        .where(admin_accounts.c.id == account.id)
                        .values(totp_secret=fresh.encrypt(seed.encode(), aad))
                    )
                    count += 1
        except BaseException:
            pending.unlink(missing_ok=True)
            raise
        os.replace(pending, path)
        self.store.audit(
            actor, "secret.rotate_key", None, old_key=old.key_id, new_key=fresh.key_id, count=count
        )
        return count


def _insert_new(engine: sa.Engine, table: sa.Table) -> Any:
    """An INSERT that adds nothing (and returns no row) when the (district, name) exists."""
    dialect = engine.dialect.name
    if dialect == "postgresql":
        return pg_insert(table).on_conflict_do_nothing().returning(table.c.id)
    if dialect == "sqlite":
        return sqlite_insert(table).on_conflict_do_nothing().returning(table.c.id)
    raise ConfigurationError(f"the secret store does not support {dialect} databases")


def lookup_for(store: Store, settings: Settings, district_id: int) -> Callable[[str], str | None]:
    """``store:NAME`` of the district's configuration → the stored secret's value."""
    return SecretStore(store, settings).lookup(district_id)


def lookup_by_district_name(settings: Settings, district: str) -> Callable[[str], str | None]:
    """``store:NAME`` for commands that read a configuration file (connection tests): the
    secret of the district the file names. The store is opened only when a reference is
    resolved; a district not created yet has no secrets."""

    def find(name: str) -> str | None:
        store = open_store(settings)
        try:
            try:
                district_id = store.get_district(district).id
            except ConfigurationError:
                return None
            return SecretStore(store, settings).get(district_id, name)
        finally:
            store.dispose()

    return find
