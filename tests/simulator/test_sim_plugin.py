"""Plugins: reading plugin.xml and queries_root from a zip, clear errors, queries they install."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from ps_sim_helpers import Api

from rostersync.errors import ConfigurationError
from rostersync.simulators.powerschool import SimulatorConfig, read_plugin

PLUGIN = """<?xml version="1.0" encoding="UTF-8"?>
<plugin xmlns="http://plugin.powerschool.pearson.com" name="Roster Reader" version="2.1.0"
        description="test">
  <oauth accessLevelV1Api="READ"/>
  <access_request>
    <field table="STUDENTS" field="DCID" access="ViewOnly"/>
    <field table="STUDENTS" field="LAST_NAME" access="ViewOnly"/>
    <field table="STUDENTS" field="SCHOOLID" access="ViewOnly"/>
    <field table="U_DEF_EXT_STUDENTS" field="*" access="FullAccess"/>
  </access_request>
  <publisher name="Example"><contact email="dev@example.org"/></publisher>
</plugin>
"""
QUERIES = """<queries>
  <query name="org.example.roster.students.by_school" coreTable="students" flattened="true">
    <summary>Students of a school</summary>
    <args><arg name="schoolid" column="STUDENTS.SCHOOLID" required="true" type="primitive"/></args>
    <columns>
      <column column="STUDENTS.DCID">dcid</column>
      <column column="STUDENTS.LAST_NAME">last_name</column>
    </columns>
    <sql><![CDATA[select s.dcid, s.last_name from students s where s.schoolid = :schoolid
      order by s.dcid]]></sql>
  </query>
  <query name="org.example.roster.students.broken" coreTable="students" flattened="true">
    <columns><column column="STUDENTS.DCID">dcid</column></columns>
    <sql><![CDATA[select s.dcid from students s where s.no_such_column = 1]]></sql>
  </query>
  <query name="org.example.roster.students.birthdays" coreTable="students" flattened="true">
    <columns><column column="STUDENTS.DOB">dob</column></columns>
    <sql><![CDATA[select s.dob from students s order by s.dcid]]></sql>
  </query>
</queries>
"""


def _zip(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


def test_reads_a_plugin_zip(tmp_path: Path) -> None:
    plugin = read_plugin(
        _zip(
            tmp_path / "p.zip",
            {"plugin.xml": PLUGIN, "queries_root/roster.named_queries.xml": QUERIES},
        )
    )
    assert plugin.name == "Roster Reader"
    assert plugin.oauth
    assert plugin.access_level_v1 == "READ"
    assert plugin.level("students", "last_name") == "ViewOnly"
    assert plugin.level("u_def_ext_students", "school_email") == "FullAccess"
    assert plugin.level("students", "first_name") is None
    assert set(plugin.queries) == {
        "org.example.roster.students.by_school",
        "org.example.roster.students.broken",
        "org.example.roster.students.birthdays",
    }


def test_invalid_plugins_are_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    with pytest.raises(ConfigurationError, match="not a zip"):
        read_plugin(tmp_path / "junk.zip")
    with pytest.raises(ConfigurationError, match=r"no plugin\.xml"):
        read_plugin(_zip(tmp_path / "empty.zip", {"README": "x"}))
    with pytest.raises(ConfigurationError, match="not well-formed"):
        read_plugin(_zip(tmp_path / "bad.zip", {"plugin.xml": "<plugin"}))
    with pytest.raises(ConfigurationError, match="version"):
        read_plugin(_zip(tmp_path / "v.zip", {"plugin.xml": '<plugin name="x" version="a"/>'}))
    with pytest.raises(ConfigurationError, match="file not found"):
        read_plugin(tmp_path / "missing.zip")


def test_plugin_queries_run_and_access_is_enforced(
    tmp_path: Path, start: Callable[..., Api]
) -> None:
    plugin = read_plugin(
        _zip(
            tmp_path / "p.zip",
            {"plugin.xml": PLUGIN, "queries_root/roster.named_queries.xml": QUERIES},
        )
    )
    sim = start(SimulatorConfig(plugin=plugin))
    body = sim.post(
        "/ws/schema/query/org.example.roster.students.by_school", json={"schoolid": "100"}
    ).json()
    first = body["record"][0]
    assert set(first) == {"dcid", "last_name"}
    assert isinstance(first["dcid"], str)
    broken = sim.post("/ws/schema/query/org.example.roster.students.broken", json={})
    assert broken.status_code == 400
    assert "could not be run" in broken.json()["message"]
    denied = sim.post("/ws/schema/query/org.example.roster.students.birthdays", json={})
    assert denied.status_code == 403
    assert denied.json()["errors"][0]["field"] == "STUDENTS.DOB"
    core = sim.post(
        "/ws/schema/query/com.pearson.core.terms.yearid",
        json={"schoolid": "100", "currentdate": "2025-09-10"},
    )
    assert core.status_code == 403  # the plugin does not grant TERMS.YEARID
