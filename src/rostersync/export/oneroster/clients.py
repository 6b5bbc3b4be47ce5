"""API clients of the OneRoster provider: credentials, scopes and sharing rules, stored hashed.

``rostersync api-clients create`` issues a client ID and a secret that is shown once. The secret
is derived from the installation's secret key and a per-client salt
(``HMAC-SHA256(key, "oneroster-client:" + id + ":" + salt)``) and only its SHA-256 is stored:
the database alone never reveals it, OAuth 2 checks the hash, and OAuth 1.0a (which signs
with the secret itself) re-derives it from the key. Rotating the secret key therefore
invalidates every API client's secret; issue new ones after a rotation.

A client may have an expiry date (``--expires``, the data-sharing agreement's end): from then on
its secret, its tokens and its OAuth 1.0a signatures are refused with :class:`ClientExpired`,
whose message says when it expired and what to do.

The ``api_clients`` table (migration ``0002_api_clients``) is declared with the store's other
tables in :mod:`rostersync.store.schema`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from rostersync.clock import as_utc, utcnow
from rostersync.errors import ConfigurationError
from rostersync.export.oneroster.sharing import SharingRules
from rostersync.store.schema import api_clients, roster_versions

SCOPE_PREFIXES = (
    "https://purl.imsglobal.org/spec/or/v1p2/scope/",
    "https://purl.imsglobal.org/spec/or/v1p1/scope/",
)
#: Scopes a client may be granted (short names; tokens carry the full 1.2 or 1.1 URIs).
SCOPES = (
    "roster-core.readonly",
    "roster.readonly",
    "roster-demographics.readonly",
    # the Gradebook service (export/oneroster/gradebook_api.py)
    "gradebook-core.readonly",
    "gradebook.readonly",
    "gradebook.createput",
    "gradebook.createpost",
    "gradebook.delete",
)
TOKEN_TTL_SECONDS = 3600
#: Verified tokens remembered per process before the memo starts over.
TOKEN_CACHE_SIZE = 10_000


def short_scope(scope: str) -> str:
    for prefix in SCOPE_PREFIXES:
        if scope.startswith(prefix):
            return scope[len(prefix) :]
    return scope


class ClientExpired(Exception):
    """A known client presented valid credentials after its expiry date."""

    def __init__(self, client_id: str, expired_at: datetime) -> None:
        self.client_id = client_id
        self.expired_at = expired_at
        super().__init__(
            f"API client {client_id} expired on {expired_at.isoformat(timespec='seconds')}: "
            "ask the district's administrator to extend its access"
        )


@dataclass(frozen=True)
class ApiClient:
    """A downstream app allowed to read one district's roster."""

    id: int
    district_id: int
    name: str
    client_id: str
    scopes: frozenset[str]
    sharing: SharingRules
    created_at: datetime
    revoked: bool
    expires_at: datetime | None = None

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or utcnow())


@dataclass(frozen=True)
class IssuedClient:
    """A new client with its secret, which is never shown again."""

    client: ApiClient
    client_secret: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


#: Label of the district's current roster version next to a client's row.
_CURRENT_VERSION = "current_roster_version"


def _current_version() -> sa.Label[int]:
    """The newest roster version of the client's district, as a column of the client's row."""
    return (
        sa.select(sa.func.max(roster_versions.c.version))
        .where(roster_versions.c.district_id == api_clients.c.district_id)
        .scalar_subquery()
        .label(_CURRENT_VERSION)
    )


class ApiClients:
    """Create, list, revoke and authenticate API clients over the store's engine."""

    def __init__(self, engine: Engine, secret_key: str) -> None:
        self.engine = engine
        self._key = secret_key.encode("utf-8")
        # A plain dict: single reads/writes are atomic, and a lost update only costs a re-check.
        self._tokens: dict[str, tuple[float, str, frozenset[str]]] = {}

    def derive_secret(self, client_id: str, salt: str) -> str:
        digest = hmac.new(
            self._key, f"oneroster-client:{client_id}:{salt}".encode(), hashlib.sha256
        ).digest()
        return _b64(digest)

    @staticmethod
    def _hash(secret: str) -> str:
        return hashlib.sha256(secret.encode("utf-8")).hexdigest()

    def create(
        self,
        district_id: int,
        name: str,
        scopes: Iterable[str],
        sharing: SharingRules,
        expires_at: datetime | None = None,
    ) -> IssuedClient:
        granted = frozenset(short_scope(s.strip()) for s in scopes if s.strip())
        unknown = sorted(granted - set(SCOPES))
        if unknown or not granted:
            raise ConfigurationError(
                f"--scopes: unknown or missing scope(s): {', '.join(unknown) or '(none given)'}",
                setting="--scopes",
                hint=f"grant one or more of {', '.join(SCOPES)}",
            )
        now = utcnow()
        if expires_at is not None:
            expires_at = as_utc(expires_at)
            if expires_at <= now:
                raise ConfigurationError(
                    f"--expires: {expires_at.isoformat(timespec='seconds')} is not in the future",
                    setting="--expires",
                    hint="give a later date (YYYY-MM-DD), or no expiry",
                )
        client_id = "or_" + secrets.token_hex(10)
        salt = secrets.token_hex(16)
        secret = self.derive_secret(client_id, salt)
        # Inserted at once, the unique name checked by the constraint: on SQLite a transaction
        # that looked first and wrote after was refused at once ("database is locked") while
        # another writer, such as a publish, held the store.
        try:
            with self.engine.begin() as conn:
                new_id = conn.execute(
                    api_clients.insert().values(
                        district_id=district_id,
                        name=name,
                        client_id=client_id,
                        secret_salt=salt,
                        secret_hash=self._hash(secret),
                        scopes=json.dumps(sorted(granted)),
                        sharing=json.dumps(sharing.to_json(), sort_keys=True),
                        created_at=now,
                        expires_at=expires_at,
                    )
                ).inserted_primary_key
        except sa.exc.IntegrityError as exc:
            raise ConfigurationError(
                f"--name: the district already has an API client named {name!r}",
                setting="--name",
                hint="choose another name, or revoke the old client first",
            ) from exc
        assert new_id is not None
        client = ApiClient(
            int(new_id[0]), district_id, name, client_id, granted, sharing, now, False, expires_at
        )
        return IssuedClient(client, secret)

    def _from_row(self, row: sa.Row[tuple[object, ...]]) -> ApiClient:
        m = row._mapping
        expires = m["expires_at"]
        return ApiClient(
            m["id"],
            m["district_id"],
            m["name"],
            m["client_id"],
            frozenset(json.loads(m["scopes"])),
            SharingRules.from_json(json.loads(m["sharing"])),
            as_utc(m["created_at"]),
            m["revoked_at"] is not None,
            as_utc(expires) if expires is not None else None,
        )

    def _active(self, row: sa.Row[tuple[object, ...]] | None) -> ApiClient | None:
        """The client of ``row`` unless unknown or revoked; :class:`ClientExpired` if expired."""
        if row is None or row._mapping["revoked_at"] is not None:
            return None
        client = self._from_row(row)
        if client.expired():
            assert client.expires_at is not None
            raise ClientExpired(client.client_id, client.expires_at)
        return client

    def list(self, district_id: int) -> list[ApiClient]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(api_clients)
                .where(api_clients.c.district_id == district_id)
                .order_by(api_clients.c.name)
            ).all()
        return [self._from_row(r) for r in rows]

    def _row(
        self, client_id: str, conn: sa.Connection | None, *, with_version: bool = False
    ) -> sa.Row[tuple[object, ...]] | None:
        """The client's row, read on ``conn`` if given (a request's own connection); with
        ``with_version``, plus its district's current roster version (column
        :data:`_CURRENT_VERSION`)."""
        stmt = sa.select(api_clients).where(api_clients.c.client_id == client_id)
        if with_version:
            stmt = stmt.add_columns(_current_version())
        if conn is not None:
            return conn.execute(stmt).first()
        with self.engine.connect() as own:
            return own.execute(stmt).first()

    def get(self, client_id: str, conn: sa.Connection | None = None) -> ApiClient | None:
        """An active client by its client ID (``None`` if unknown or revoked).

        Raises :class:`ClientExpired` past the client's expiry date."""
        return self._active(self._row(client_id, conn))

    def find(self, district_id: int, name_or_id: str) -> ApiClient:
        for client in self.list(district_id):
            if name_or_id in (client.name, client.client_id):
                return client
        raise ConfigurationError(
            f"No API client {name_or_id!r} in this district",
            setting="client",
            hint="see `rostersync api-clients list --district …`",
        )

    def revoke(self, client_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                api_clients.update()
                .where(api_clients.c.client_id == client_id)
                .values(revoked_at=utcnow())
            )

    def verify_secret(self, client_id: str, secret: str) -> ApiClient | None:
        """The client if ``secret`` is its secret (constant-time comparison).

        Raises :class:`ClientExpired` for the right secret of an expired client (only someone
        holding the secret learns that it expired)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(api_clients).where(api_clients.c.client_id == client_id)
            ).first()
        if row is None or row._mapping["revoked_at"] is not None:
            return None
        if not hmac.compare_digest(self._hash(secret), row._mapping["secret_hash"]):
            return None
        return self._active(row)

    def signing_secret(
        self, client_id: str, conn: sa.Connection | None = None
    ) -> tuple[ApiClient, str] | None:
        """For OAuth 1.0a: the client and its re-derived secret, if it still matches the hash.

        An expired client is returned too (the caller checks the signature first, then
        :meth:`ApiClient.expired`), so only a correctly signed request learns of the expiry."""
        row = self._row(client_id, conn)
        if row is None or row._mapping["revoked_at"] is not None:
            return None
        secret = self.derive_secret(client_id, row._mapping["secret_salt"])
        if not hmac.compare_digest(self._hash(secret), row._mapping["secret_hash"]):
            return None  # the installation's secret key changed since the client was issued
        return self._from_row(row), secret

    # -- bearer tokens (stateless, signed with the installation key) ------------------------

    def issue_token(
        self, client: ApiClient, scopes: Iterable[str], now: float | None = None
    ) -> str:
        issued = int(now if now is not None else time.time())
        payload = {
            "cid": client.client_id,
            "scp": sorted(scopes),
            "exp": issued + TOKEN_TTL_SECONDS,
        }
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        sig = _b64(hmac.new(self._key, f"token:{body}".encode(), hashlib.sha256).digest())
        return f"{body}.{sig}"

    def read_token(
        self, token: str, now: float | None = None, conn: sa.Connection | None = None
    ) -> tuple[ApiClient, frozenset[str]] | None:
        """The client and granted scopes of a valid, unexpired token; ``None`` otherwise.

        A token's signature is checked once (the verified claims are remembered by the exact
        token text); the client's row is read on every call (one primary-key lookup), so a
        revocation takes effect at once in every server process.
        """
        found = self.read_token_and_version(token, now, conn)
        return None if found is None else found[0]

    def read_token_and_version(
        self, token: str, now: float | None = None, conn: sa.Connection | None = None
    ) -> tuple[tuple[ApiClient, frozenset[str]], int | None] | None:
        """:meth:`read_token`, and the current roster version of the client's district read
        in the same statement as the client's row: a provider request's first round trip to
        the database answers both who is asking and which version to serve."""
        claims = self._tokens.get(token)
        if claims is None:
            claims = self._verify(token)
            if claims is None:
                return None
            if len(self._tokens) >= TOKEN_CACHE_SIZE:
                self._tokens.clear()
            self._tokens[token] = claims
        expires, client_id, scopes = claims
        if expires < (now if now is not None else time.time()):
            return None
        row = self._row(client_id, conn, with_version=True)
        client = self._active(row)
        if client is None or row is None:
            return None
        version = row._mapping[_CURRENT_VERSION]
        return (client, scopes & client.scopes), None if version is None else int(version)

    def _verify(self, token: str) -> tuple[float, str, frozenset[str]] | None:
        body, sep, sig = token.partition(".")
        if not sep:
            return None
        expected = _b64(hmac.new(self._key, f"token:{body}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, sig):
            return None
        try:
            payload = json.loads(_unb64(body))
            return (
                float(payload.get("exp", 0)),
                str(payload.get("cid")),
                frozenset(short_scope(s) for s in payload.get("scp", ())),
            )
        except (ValueError, TypeError, AttributeError):
            return None
