"""From a source's configuration to a working connector: registry lookup, secret, options.

The sync never names PowerSchool: it asks the connector registry for the source's ``app`` and
hands it the source configuration, the resolved secret and an ``httpx`` client it owns.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from rostersync.config import SourceConfig, resolve_secret
from rostersync.connectors import Connector, get_connector_class
from rostersync.settings import Settings


def resolve_client_secret(
    source: SourceConfig,
    settings: Settings,
    index: int = 0,
    *,
    store_lookup: Callable[[str], str | None] | None = None,
) -> str:
    """The source's OAuth client secret, read from where its reference points (``store:NAME``
    through ``store_lookup``, the district's secret store); empty for a source without a
    delivery (an app that reads files)."""
    if source.delivery is None:
        return ""
    secret = resolve_secret(
        source.delivery.client_secret,
        settings,
        path=f"sources[{index}].delivery.client_secret",
        store_lookup=store_lookup,
    )
    return secret.get_secret_value()


def connector_for(
    source: SourceConfig,
    settings: Settings,
    client: httpx.AsyncClient | None = None,
    *,
    index: int = 0,
    store_lookup: Callable[[str], str | None] | None = None,
) -> tuple[Connector, httpx.AsyncClient]:
    """(connector, the client it uses). The caller closes the client."""
    cls = get_connector_class(source.app)
    secret = resolve_client_secret(source, settings, index, store_lookup=store_lookup)
    connector, http = cls.from_source(source, secret, client=client)
    return connector, http
