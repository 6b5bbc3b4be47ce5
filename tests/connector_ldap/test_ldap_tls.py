"""TLS to the directory: ldaps:// and StartTLS, the server's certificate checked against the
district's CA (``connector.ca_file``) and refused when nothing vouches for it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from connector_ldap.conftest import Directory
from connector_ldap.district import STUDENT_COUNT
from connector_ldap.ldap_helpers import ldap_source
from connector_ldap.slapd import READER_PASSWORD
from rostersync.connectors.base import Extraction
from rostersync.connectors.ldap import LdapConnector
from rostersync.errors import ConfigurationError, SourceError, SourceUnreachable


def outcome(url: str, **connector: Any) -> Extraction | SourceError:
    config = ldap_source(url, staff=None, **connector)

    async def run() -> Extraction | SourceError:
        ldap, client = LdapConnector.from_source(config, READER_PASSWORD)
        try:
            return await ldap.extract()
        except SourceError as exc:
            return exc
        finally:
            await client.aclose()

    return asyncio.run(run())


def students(result: Extraction | SourceError) -> int:
    assert isinstance(result, Extraction), result
    return result.roster["users"].height


def test_ldaps_with_the_districts_ca(directory: Directory) -> None:
    ca = str(directory.server.certificates.ca)
    assert students(outcome(directory.server.ldaps_url, ca_file=ca)) == STUDENT_COUNT


def test_start_tls_with_the_districts_ca(directory: Directory) -> None:
    ca = str(directory.server.certificates.ca)
    assert students(outcome(directory.url, start_tls=True, ca_file=ca)) == STUDENT_COUNT


@pytest.mark.parametrize("start_tls", [False, True], ids=["ldaps", "starttls"])
def test_an_untrusted_certificate_is_refused_unless_checks_are_off(
    directory: Directory, start_tls: bool
) -> None:
    url = directory.url if start_tls else directory.server.ldaps_url
    refused = outcome(url, start_tls=start_tls)
    assert isinstance(refused, SourceUnreachable)
    assert refused.message == (
        f"The LDAP server {url} presented a certificate that is not trusted: certificate "
        "verify failed: self-signed certificate in certificate chain"
    )
    assert "connector.ca_file" in (refused.hint or "")
    assert students(outcome(url, start_tls=start_tls, verify_tls=False)) == STUDENT_COUNT


def test_a_ca_file_that_is_not_there_is_a_configuration_error(tmp_path: Path) -> None:
    config = ldap_source("ldaps://127.0.0.1:636", ca_file=str(tmp_path / "nope.pem"))
    with pytest.raises(ConfigurationError) as caught:
        LdapConnector.from_source(config, READER_PASSWORD)
    assert "connector.ca_file" in caught.value.message
    assert "nope.pem" in caught.value.message


def test_tls_settings_without_tls_are_refused() -> None:
    for url, options, setting in (
        ("ldaps://127.0.0.1:636", {"start_tls": True}, "start_tls"),
        ("ldap://127.0.0.1:389", {"verify_tls": False}, "verify_tls"),
        ("ldap://127.0.0.1:389", {"ca_file": "/etc/ssl/ca.pem"}, "ca_file"),
    ):
        config = ldap_source(url, **options)
        with pytest.raises(ConfigurationError) as caught:
            LdapConnector.from_source(config, READER_PASSWORD)
        assert f"connector.{setting}" in caught.value.message
        assert caught.value.setting == f"sources[].connector.{setting}"
