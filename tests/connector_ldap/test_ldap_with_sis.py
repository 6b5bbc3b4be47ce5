"""PowerSchool and Active Directory together: the SIS owns the roster, the directory the accounts.

The directory holds an account for every teacher of the simulated SIS, keyed by the teacher's
PowerSchool DCID in ``employeeID``, with its own ``sAMAccountName`` and mail. Configured side by
side (the directory without orgs, ``id_prefix: staff-``), with master fields giving the directory
the teachers' username and email, one sync publishes every SIS teacher once, with the
directory's login and mail and the SIS's names and schools.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
import yaml
from ldap3 import Connection, Server
from typer.testing import CliRunner

from connector_ldap.conftest import Directory
from connector_ldap.ldap_helpers import source_body
from connector_ldap.slapd import READER_PASSWORD, ROOT_DN, ROOT_PASSWORD, SUFFIX
from rostersync.cli import app
from rostersync.connectors.powerschool import PowerSchoolConnector
from rostersync.model import Roster
from rostersync.settings import load_settings
from rostersync.simulators.powerschool import DEFAULT_CLIENT_SECRET, RunningSimulator
from rostersync.store import open_store
from support.configs import powerschool_config
from support.simulators import tiny_simulator_fixtures

sis_district, sis = tiny_simulator_fixtures(11, district="sis_district", sim="sis")
ACCOUNTS = f"ou=SisStaff,{SUFFIX}"
DISTRICT = "Springfield SIS and Directory"


def sis_teachers(url: str, monkeypatch: pytest.MonkeyPatch) -> pl.DataFrame:
    """The SIS's teachers as the PowerSchool connector reads them (the real path)."""
    body = powerschool_config(url, monkeypatch, attribute_mapping=None)
    from rostersync.config import validate_config

    source = validate_config(body, "sis").sources[0]

    async def run() -> Roster:
        connector, client = PowerSchoolConnector.from_source(source, DEFAULT_CLIENT_SECRET)
        try:
            return (await connector.extract()).roster
        finally:
            await client.aclose()

    users = asyncio.run(run())["users"]
    return users.filter(pl.col("role") == "teacher")


def account(row: dict[str, object]) -> tuple[str, str]:
    """The directory's login and mail of a SIS teacher."""
    login = f"{str(row['givenName'])[0]}{row['familyName']}{row['sourceId']}".lower()
    login = "".join(c for c in login if c.isascii() and c.isalnum())
    return login, f"{login}@ad.springfield.k12"


@pytest.fixture
def accounts(
    directory: Directory, sis: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[pl.DataFrame]:
    """One directory account per SIS teacher, under ou=SisStaff (removed afterwards)."""
    teachers = sis_teachers(sis.url, monkeypatch)
    conn = Connection(
        Server(directory.url), ROOT_DN, ROOT_PASSWORD, auto_bind=True, raise_exceptions=True
    )
    added = [ACCOUNTS]
    try:
        conn.add(ACCOUNTS, ["organizationalUnit"])
        for row in teachers.iter_rows(named=True):
            login, mail = account(row)
            dn = f"cn={login},{ACCOUNTS}"
            conn.add(
                dn,
                ["inetOrgPerson", "adPerson"],
                {
                    "cn": login,
                    "sn": "Directory-" + str(row["familyName"]),
                    "givenName": "Directory-" + str(row["givenName"]),
                    "sAMAccountName": login,
                    "employeeID": str(row["sourceId"]),
                    "mail": mail,
                    "userAccountControl": "512",
                },
            )
            added.append(dn)
        yield teachers
    finally:
        for dn in reversed(added):
            conn.delete(dn)
        conn.unbind()


def test_the_directory_gives_the_sis_teachers_their_accounts(
    directory: Directory,
    sis: RunningSimulator,
    accounts: pl.DataFrame,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = powerschool_config(sis.url, monkeypatch, district=DISTRICT, attribute_mapping=None)
    ldap = source_body(
        directory.url,
        staff={"base_dn": ACCOUNTS, "id_attribute": "employeeID", "id_prefix": "staff-"},
        students=None,
        district_name=None,
        school_names={},
    )
    monkeypatch.setenv("LDAP_BIND_PASSWORD", READER_PASSWORD)
    body["sources"].append(ldap)
    body["master_fields"] = {"teacher": {"username": ["directory"], "email": ["directory"]}}
    config = tmp_path / "district.yaml"
    config.write_text(yaml.safe_dump(body), encoding="utf-8")

    result = CliRunner().invoke(app, ["sync", "run", "--config", str(config), "--json"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert json.loads(result.stdout)["version"] == 1
    store = open_store(load_settings())
    try:
        roster = store.read_version(store.get_district(DISTRICT).id)
    finally:
        store.dispose()

    teachers = roster["users"].filter(pl.col("role") == "teacher").sort("sourcedId")
    expected = accounts.sort("sourcedId")
    assert teachers["sourcedId"].to_list() == expected["sourcedId"].to_list()  # each once
    for got, sis_row in zip(
        teachers.iter_rows(named=True), expected.iter_rows(named=True), strict=True
    ):
        login, mail = account(sis_row)
        assert (got["username"], got["email"]) == (login, mail)  # the directory's, by master field
        assert (got["givenName"], got["familyName"]) == (
            sis_row["givenName"],
            sis_row["familyName"],
        )  # the SIS's: the SIS comes first where master_fields say nothing
        assert got["orgSourcedIds"] == sis_row["orgSourcedIds"]
    orgs = roster["orgs"]
    assert orgs.filter(pl.col("type") == "district").height == 1
