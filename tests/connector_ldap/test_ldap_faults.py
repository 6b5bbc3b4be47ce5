"""Bad input to the LDAP source: every failure is a clear error naming the place, no traceback,
and no extraction comes back from a search that did not finish."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from connector_ldap.conftest import Directory
from connector_ldap.district import BROKEN, STUDENTS, SUFFIX
from connector_ldap.ldap_helpers import ldap_source, source_body
from connector_ldap.proxy import dropping_proxy
from connector_ldap.slapd import READER_DN, READER_PASSWORD
from rostersync.config import SourceConfig, parse_config_text
from rostersync.connectors.base import ConnectionReport, Extraction
from rostersync.connectors.ldap import LdapConnector
from rostersync.errors import (
    ConfigurationError,
    ConfigValidationError,
    SourceAuthError,
    SourceDataError,
    SourceError,
    SourceHealthError,
    SourceUnreachable,
)


def failure(config: SourceConfig, password: str = READER_PASSWORD) -> tuple[SourceError, Any]:
    """The extract's error and the connection test's report."""

    async def run() -> tuple[SourceError, ConnectionReport]:
        ldap, client = LdapConnector.from_source(config, password)
        try:
            report = await ldap.test_connection()
            try:
                result: Extraction = await ldap.extract()
            except SourceError as exc:
                return exc, report
            raise AssertionError(f"extracted {result.roster['users'].height} users")
        finally:
            await client.aclose()

    return asyncio.run(run())


def test_a_wrong_password_names_the_bind_dn_and_never_the_password(directory: Directory) -> None:
    error, report = failure(ldap_source(directory.url), "not-the-password")
    assert isinstance(error, SourceAuthError)
    assert READER_DN in error.message
    assert "invalid credentials" in error.message
    assert "delivery.client_id" in (error.hint or "")
    assert not report.ok
    assert report.message == error.message
    assert "not-the-password" not in f"{error!r} {error.message} {error.hint}"


def test_a_missing_base_dn_names_the_setting(directory: Directory) -> None:
    config = ldap_source(directory.url, students={"base_dn": f"ou=Pupils,{SUFFIX}"})
    error, report = failure(config)
    assert isinstance(error, SourceDataError)
    assert f"ou=Pupils,{SUFFIX}" in error.message
    assert "connector.students.base_dn" in (error.hint or "")
    assert not report.ok


def test_entries_without_their_id_attribute_are_named(directory: Directory) -> None:
    config = ldap_source(
        directory.url,
        students={"base_dn": BROKEN, "id_attribute": "employeeID"},
        staff=None,
    )
    error, report = failure(config)
    assert isinstance(error, SourceDataError)
    assert "have no employeeID" in error.message
    assert not report.ok  # the first entry of ou=Broken is the one without it
    assert "the students search has no employeeID" in report.message
    assert report.missing_fields == ["connector.students.id_attribute: employeeID"]
    assert f"cn=Student 91,{BROKEN}" in error.message
    assert "(&(objectClass=user)(employeeID=*))" in (error.hint or "")


def test_two_entries_with_one_id_are_named(directory: Directory) -> None:
    config = ldap_source(
        directory.url,
        students={
            "base_dn": BROKEN,
            "id_attribute": "employeeID",
            "filter": "(&(objectClass=inetOrgPerson)(employeeID=*))",
        },
        staff=None,
    )
    error, _ = failure(config)
    assert isinstance(error, SourceDataError)
    assert "100093" in error.message
    assert f"cn=Student 92,{BROKEN}" in error.message
    assert f"cn=Student 93,{BROKEN}" in error.message


def test_a_person_found_by_both_searches_is_refused(directory: Directory) -> None:
    config = ldap_source(directory.url, staff={"base_dn": STUDENTS})
    error, _ = failure(config)
    assert isinstance(error, SourceDataError)
    assert "(students)" in error.message
    assert "(staff)" in error.message


def test_a_server_that_drops_the_connection_mid_page_fails_the_extract(
    directory: Directory,
) -> None:
    page = 7
    with dropping_proxy(directory.server.port, drop_after_entries=page + 2) as proxy:
        proxy.armed = True
        config = ldap_source(proxy.url, page_size=page, staff=None, timeout_seconds=5)

        async def run() -> SourceError:
            ldap, client = LdapConnector.from_source(config, READER_PASSWORD)
            try:
                with pytest.raises(SourceError) as caught:
                    await ldap.extract()
                return caught.value
            finally:
                await client.aclose()

        error = asyncio.run(run())
    assert proxy.dropped == 1
    assert isinstance(error, SourceUnreachable)
    assert not isinstance(error, SourceHealthError)
    assert "broke off the students search" in error.message
    assert f"after {page} entries (page 2)" in error.message
    assert "nothing was published" in (error.hint or "")
    assert "Traceback" not in error.message


def test_a_server_that_stops_answering_mid_page_times_out_clearly(directory: Directory) -> None:
    page = 7
    with dropping_proxy(directory.server.port, drop_after_entries=page + 2) as proxy:
        proxy.armed, proxy.stall = True, True
        config = ldap_source(proxy.url, page_size=page, staff=None, timeout_seconds=1)
        error, _ = failure(config)
    assert isinstance(error, SourceUnreachable)
    assert error.message == (
        f"The LDAP server {proxy.url} did not answer the students search of "
        f"'ou=Students,ou=Springfield,{SUFFIX}' within 1 s (page 2, after {page} entries)"
    )
    assert "connector.timeout_seconds" in (error.hint or "")


def test_a_malformed_answer_mid_search_is_named(directory: Directory) -> None:
    page = 7
    with dropping_proxy(directory.server.port, drop_after_entries=page + 2) as proxy:
        proxy.armed, proxy.garble = True, True
        config = ldap_source(proxy.url, page_size=page, staff=None, timeout_seconds=3)
        error, _ = failure(config)
    assert isinstance(error, SourceUnreachable)
    assert error.message.startswith(
        f"The LDAP server {proxy.url} sent a malformed answer to the students search of "
        f"'ou=Students,ou=Springfield,{SUFFIX}' after {page} entries (page 2)"
    ), error.message
    assert "nothing was published" in (error.hint or "")


@pytest.fixture
def web_server() -> Iterator[int]:
    """A server that answers anything with an HTTP error: not LDAP (a wrong port)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)

    def serve() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with client:
                client.recv(4096)
                client.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" * 4)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    listener.close()
    thread.join(timeout=5)


def test_a_server_that_does_not_speak_ldap_is_named(web_server: int) -> None:
    url = f"ldap://127.0.0.1:{web_server}"
    error, report = failure(ldap_source(url, timeout_seconds=3))
    assert isinstance(error, SourceUnreachable)
    assert error.message.startswith(f"The server at {url} does not answer as an LDAP server")
    assert "389" in (error.hint or "")
    assert not report.ok
    assert report.message == error.message


def test_an_unreachable_server_names_its_url() -> None:
    from support.servers import free_port

    url = f"ldap://127.0.0.1:{free_port()}"
    error, report = failure(ldap_source(url))
    assert isinstance(error, SourceUnreachable)
    assert url in error.message
    assert "delivery.url" in (error.hint or "")
    assert not report.ok


def problems(connector: dict[str, Any], url: str = "ldap://dc.example.org") -> dict[str, str]:
    import yaml

    body = {"district": "x", "sources": [source_body(url)]}
    body["sources"][0]["connector"] = connector
    with pytest.raises(ConfigValidationError) as caught:
        parse_config_text(yaml.safe_dump(body), "district.yaml")
    return {p.path: p.message for p in caught.value.problems}


def test_bad_connector_options_are_reported_with_their_paths() -> None:
    found = problems(
        {
            "students": {
                "base_dn": "Students OU",
                "filter": "objectClass=user",
                "attributes": {"nickname": "cn", "email": "mail address"},
            },
            "staff": {"base_dn": "ou=Staff,dc=x", "role": "janitor"},
            "groups": {"membership": "group_search"},
            "page_size": 0,
        }
    )
    at = "sources[0].connector"
    assert "not a distinguished name" in found[f"{at}.students.base_dn"]
    assert "not an LDAP search filter" in found[f"{at}.students.filter"]
    assert "'nickname' is not allowed here" in found[f"{at}.students.attributes.nickname"]
    assert "teacher" in found[f"{at}.staff.role"]
    assert "needs base_dn" in found[f"{at}.groups"]
    assert f"{at}.page_size" in found
    reserved = problems({"staff": {"base_dn": "ou=S,dc=x", "extra_attributes": ["Groups"]}})
    assert "metadata.groups" in reserved[f"{at}.staff.extra_attributes"]
    roles = problems({"students": {"base_dn": "ou=S,dc=x", "role": "administrator"}})
    assert "students.role: roles apply to the staff search only" in roles[at]
    unused = problems({"staff": {"base_dn": "ou=S,dc=x"}, "groups": {"base_dn": "ou=G,dc=x"}})
    assert "base_dn applies to membership: group_search" in unused[f"{at}.groups"]
    nothing = problems({})
    assert "give `students`, `staff` or both" in nothing[at]
    spaced = problems({"staff": {"base_dn": "ou=Staff,dc=x", "attributes": {"email": "e mail"}}})
    assert "email: 'e mail' is not an LDAP attribute name" in spaced[f"{at}.staff.attributes"]


def test_a_url_that_is_not_ldap_is_refused() -> None:
    config = ldap_source("https://dc.example.org")
    with pytest.raises(ConfigurationError) as caught:
        LdapConnector.from_source(config, READER_PASSWORD)
    assert "not an LDAP server URL" in caught.value.message
    assert "ldaps://host:636" in (caught.value.hint or "")
    assert problems({}, url="ftp://dc")["sources[0].delivery.url"].startswith("must be an http")
