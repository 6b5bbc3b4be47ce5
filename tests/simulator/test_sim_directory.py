"""The throwaway directory of the multi-source demo: a real slapd its reader reads,
stopped with its files removed; a slapd that cannot start is a clear error."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path

import pytest
from ldap3 import Connection, Server

from rostersync.errors import ConfigurationError
from rostersync.simulators.directory import running_directory

SLAPD = shutil.which("slapd", path=os.pathsep.join((os.environ.get("PATH", ""), "/usr/sbin")))
pytestmark = pytest.mark.skipif(
    SLAPD is None, reason="needs OpenLDAP's slapd: apt-get install slapd ldap-utils (.ci/run does)"
)
SUFFIX = "dc=test,dc=k12"


def test_the_reader_reads_what_was_written_and_the_server_goes_away() -> None:
    person = (
        f"cn=ann,{SUFFIX}",
        ["inetOrgPerson", "adPerson"],
        {"cn": "ann", "sn": "Lee", "sAMAccountName": "alee", "employeeID": "42"},
    )
    tmp = Path(tempfile.gettempdir())
    before = set(tmp.glob("rostersync-slapd-*"))
    with running_directory(SUFFIX, [person]) as directory:
        reader = Connection(
            Server(directory.url), directory.reader_dn, directory.reader_password, auto_bind=True
        )
        try:
            reader.search(SUFFIX, "(cn=ann)", attributes=["sAMAccountName", "employeeID"])
            assert [(str(e.sAMAccountName), str(e.employeeID)) for e in reader.entries] == [
                ("alee", "42")
            ]
        finally:
            reader.unbind()
        folders = set(tmp.glob("rostersync-slapd-*")) - before  # this server's
        port = int(directory.url.rsplit(":", 1)[1])
    assert folders
    assert not any(p.exists() for p in folders)
    with pytest.raises(ConnectionRefusedError):  # nothing listens any more
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_a_slapd_that_cannot_start_is_a_clear_error() -> None:
    with (
        pytest.raises(ConfigurationError, match="slapd exited with status"),
        running_directory("this is not a DN", []),
    ):
        pass
