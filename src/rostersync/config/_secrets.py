"""Secret references of a configuration: ``env:NAME``, ``file:PATH`` or ``store:NAME``.

The configuration never holds a secret, only where to find it; the value is read at the moment it
is needed and kept as ``SecretStr`` so it never prints.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from pydantic import SecretStr

from rostersync.errors import ConfigurationError
from rostersync.settings import Settings


def resolve_secret(
    ref: str,
    settings: Settings,
    *,
    path: str = "delivery.client_secret",
    store_lookup: Callable[[str], str | None] | None = None,
) -> SecretStr:
    """The secret a reference points at; a clear error naming ``path`` when it cannot be read.

    ``file:`` paths that are relative are read from the data directory of ``settings``.
    ``store:NAME`` needs ``store_lookup`` (the encrypted secret store provides it).
    """
    scheme, sep, name = ref.partition(":")
    if not sep or not name:
        raise ConfigurationError(
            f"{path} is not a secret reference",
            setting=path,
            hint="write env:NAME, file:PATH or store:NAME",
        )
    if scheme == "env":
        value = os.environ.get(name)
        if value is None or value == "":
            raise ConfigurationError(
                f"{path}: environment variable {name} is not set",
                setting=path,
                hint=f"export {name}=<the secret> before running rostersync",
            )
        return SecretStr(value)
    if scheme == "file":
        file = Path(name).expanduser()
        if not file.is_absolute():
            file = settings.data_dir / file
        try:
            value = file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigurationError(
                f"{path}: cannot read secret file {file}: {exc.strerror or exc}",
                setting=path,
                hint="check the path and that this user may read it",
            ) from exc
        if not value:
            raise ConfigurationError(f"{path}: secret file {file} is empty", setting=path)
        return SecretStr(value)
    if scheme == "store":
        found = store_lookup(name) if store_lookup is not None else None
        if found is None:
            raise ConfigurationError(
                f"{path}: no stored secret named {name!r}",
                setting=path,
                hint=f"store it with `rostersync secrets set {name} --district <district>`",
            )
        return SecretStr(found)
    raise ConfigurationError(
        f"{path}: unknown secret scheme {scheme!r}",
        setting=path,
        hint="write env:NAME, file:PATH or store:NAME",
    )
