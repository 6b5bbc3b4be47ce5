"""The key-encryption key of the secret store: read from its file, created 0600 on first use.

A key file holds one AES-256 key, base64 on one line. Its *key id* (the start of its SHA-256) is
stored with every ciphertext, so a wrong key file is named as such rather than reported as
corrupt data. During a key rotation the new key waits in ``<file>.next`` until the database
holds only ciphertexts under it; a rotation interrupted after its commit is completed by the
next reader (see :mod:`rostersync.admin.secrets`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets as random
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from rostersync import fsutil
from rostersync.errors import ConfigurationError
from rostersync.settings import Settings

SETTING = "ROSTERSYNC_SECRETS_KEY_FILE"
NONCE_BYTES = 12
MAGIC = b"rs1"
ID_BYTES = 8


class DecryptionFailed(Exception):
    """A ciphertext did not authenticate under the key of its id (altered, or bound elsewhere)."""


@dataclass(frozen=True)
class Key:
    """One AES-256-GCM key and its id."""

    material: bytes = b""
    path: Path | None = None

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self.material).hexdigest()[: ID_BYTES * 2]

    def encrypt(self, plaintext: bytes, aad: bytes) -> bytes:
        """``rs1`` + key id + nonce + AES-GCM ciphertext (with its tag) of ``plaintext``."""
        nonce = random.token_bytes(NONCE_BYTES)
        sealed = AESGCM(self.material).encrypt(nonce, plaintext, aad)
        return MAGIC + bytes.fromhex(self.key_id) + nonce + sealed

    def decrypt(self, blob: bytes, aad: bytes) -> bytes:
        head = len(MAGIC) + ID_BYTES
        nonce, sealed = blob[head : head + NONCE_BYTES], blob[head + NONCE_BYTES :]
        try:
            return AESGCM(self.material).decrypt(nonce, sealed, aad)
        except InvalidTag as exc:
            raise DecryptionFailed from exc

    def __repr__(self) -> str:  # never print the material
        return f"Key(id={self.key_id}, path={self.path})"


def blob_key_id(blob: bytes) -> str:
    """The key id a ciphertext was written under."""
    if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + ID_BYTES + NONCE_BYTES + 16:
        return "?"
    return blob[len(MAGIC) : len(MAGIC) + ID_BYTES].hex()


def next_path(path: Path) -> Path:
    """Where a rotation keeps the new key until the database is switched over."""
    return path.with_name(path.name + ".next")


def read_key(path: Path) -> Key:
    """The key in ``path``; a clear error when it cannot be read or does not hold a key."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError as exc:
        raise ConfigurationError(
            f"The secret store's key file {path} does not exist",
            setting=SETTING,
            hint=f"restore it from your backup or point {SETTING} at it; a new key cannot "
            "read the secrets stored under the old one",
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not a key file (not ASCII)"
        raise ConfigurationError(
            f"Cannot read the secret store's key file {path}: {reason or exc}",
            setting=SETTING,
            hint="check the path and that this user may read it",
        ) from exc
    try:
        material = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        material = b""
    if len(material) != 32:
        raise ConfigurationError(
            f"The secret store's key file {path} does not hold a key (expected 32 bytes of "
            "base64 on one line)",
            setting=SETTING,
            hint=f"point {SETTING} at the key file rostersync created, or restore it",
        )
    return Key(material, path)


def new_key() -> Key:
    return Key(random.token_bytes(32))


def encode(key: Key) -> str:
    return base64.b64encode(key.material).decode("ascii") + "\n"


def load_or_create(settings: Settings) -> Key:
    """The current key; created (0600, in a 0700 directory when new) if no file exists yet."""
    path = settings.resolved_secrets_key_file
    if not path.exists():
        try:
            if path.parent == settings.data_dir:
                settings.ensure_data_dir()
            else:
                fsutil.private_dir(path.parent, narrow=False)
            fsutil.create_exclusive(path, encode(new_key()))
        except OSError as exc:
            raise ConfigurationError(
                f"Cannot create the secret store's key file {path}: {exc.strerror or exc}",
                setting=SETTING,
                hint="make its directory writable for this user, or point the setting elsewhere",
            ) from exc
    return read_key(path)


def keyring(settings: Settings) -> dict[str, Key]:
    """Every key a ciphertext may be under: the key file's and a pending rotation's."""
    path = settings.resolved_secrets_key_file
    keys: dict[str, Key] = {}
    pending = next_path(path)
    if pending.exists():
        key = read_key(pending)
        keys[key.key_id] = key
    if path.exists() or not keys:
        key = read_key(path)
        keys[key.key_id] = key
    return keys
