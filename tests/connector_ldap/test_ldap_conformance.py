"""The LDAP connector passes the connector conformance kit, against a real ``slapd``."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import pytest

from connector_ldap.conftest import Directory
from connector_ldap.district import QUIET
from connector_ldap.ldap_helpers import ldap_source
from connector_ldap.slapd import LIMITED_DN, READER_PASSWORD
from rostersync.changes.health import check_source_health
from rostersync.connectors.base import Connector
from rostersync.connectors.ldap import LdapConnector
from rostersync.connectors.testing import CircuitBreaker, ConnectorConformance, SourceKind
from support.servers import free_port


class TestLdapConformance(ConnectorConformance):
    connector_class: ClassVar[type[Connector]] = LdapConnector
    secrets = (READER_PASSWORD,)
    circuit_breaker: ClassVar[CircuitBreaker | None] = staticmethod(check_source_health)

    ldap: Directory

    @pytest.fixture(autouse=True)
    def _directory(self, directory: Directory) -> None:
        self.ldap = directory

    @contextlib.asynccontextmanager
    async def source(self, kind: SourceKind) -> AsyncIterator[Connector | None]:
        url = self.ldap.url
        extra: dict[str, Any] = {}
        if kind == "empty":
            extra = {
                "students": {"base_dn": f"ou=Students,{QUIET}"},
                "staff": {"base_dn": f"ou=Staff,{QUIET}"},
            }
        elif kind == "unreachable":
            url = f"ldap://127.0.0.1:{free_port()}"
        elif kind == "partial_outage":
            extra = {"bind_dn": LIMITED_DN}  # the server stops its searches after 10 entries
        config = ldap_source(url, **extra)
        connector, client = LdapConnector.from_source(config, READER_PASSWORD)
        try:
            yield connector
        finally:
            await client.aclose()
