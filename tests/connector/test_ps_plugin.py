"""The plugin generator: the simulator installs the zip and grants exactly what a config reads."""

from __future__ import annotations

import zipfile
from pathlib import Path

import httpx
import polars as pl
from ps_helpers import extract, make_connector
from typer.testing import CliRunner

from rostersync.cli import app
from rostersync.connectors.powerschool import ExtractPlan
from rostersync.connectors.powerschool.plugin import plugin_xml, write_plugin
from rostersync.simulators.powerschool import (
    District,
    SimulatorConfig,
    read_plugin,
    run_simulator,
)

CUSTOM = ExtractPlan(custom_fields={"student": ("U_DEF_EXT_STUDENTS.school_email",)})


def test_plugin_xml_grants_the_plan_and_nothing_else(tmp_path: Path) -> None:
    path = write_plugin(tmp_path / "plugin.zip", ExtractPlan(sync_co_teachers=False))
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == ["plugin.xml"]
    plugin = read_plugin(path)
    assert plugin.oauth
    assert plugin.access_level_v1 == "READ"
    assert plugin.level("calendar_day", "date_value") == "ViewOnly"
    assert plugin.level("sectionteacher", "roleid") is None  # co-teachers off
    assert plugin.level("person", "firstname") is None  # contact module off
    with_all = read_plugin(write_plugin(tmp_path / "all.zip", ExtractPlan(contact_module=True)))
    assert with_all.level("sectionteacher", "roleid") == "ViewOnly"
    assert with_all.level("studentcontactassoc", "personid") == "ViewOnly"
    assert "accessLevelV1Api" not in plugin_xml(CUSTOM, v1_access=None)


async def test_generated_plugin_is_enough_and_a_missing_field_is_named(
    tiny_district: District, tmp_path: Path
) -> None:
    without = read_plugin(write_plugin(tmp_path / "base.zip", ExtractPlan()))
    with run_simulator(tiny_district, SimulatorConfig(plugin=without)) as sim:
        async with httpx.AsyncClient() as client:
            report = await make_connector(sim.url, client, plan=CUSTOM).test_connection()
    assert not report.ok
    # The field itself, and the key that joins it to its student.
    assert set(report.missing_fields) == {
        "U_DEF_EXT_STUDENTS.school_email",
        "U_DEF_EXT_STUDENTS.studentsdcid",
    }
    assert "U_DEF_EXT_STUDENTS.school_email" in report.message

    granted = read_plugin(write_plugin(tmp_path / "custom.zip", CUSTOM))
    with run_simulator(tiny_district, SimulatorConfig(plugin=granted)) as sim:
        async with httpx.AsyncClient() as client:
            report = await make_connector(sim.url, client, plan=CUSTOM).test_connection()
        assert report.ok, report.message
        result, _ = await extract(sim.url, CUSTOM)
    students = result.roster["users"].filter(pl.col("role") == "student")
    assert students["metadata"].str.contains("U_DEF_EXT_STUDENTS.school_email").all()


def test_plugin_command_writes_the_default_plugin(tmp_path: Path) -> None:
    out = tmp_path / "plugin.zip"
    result = CliRunner().invoke(app, ["powerschool", "plugin", "--out", str(out)])
    assert result.exit_code == 0, result.output
    plugin = read_plugin(out)
    assert plugin.name == "rostersync"
    assert plugin.level("person", "lastname") == "ViewOnly"


async def test_v1_access_level_none_is_named(tiny_district: District, tmp_path: Path) -> None:
    plugin = read_plugin(write_plugin(tmp_path / "old.zip", ExtractPlan(), v1_access=None))
    config = SimulatorConfig(plugin=plugin, enforce_v1_access_level=True)
    with run_simulator(tiny_district, config) as sim:
        async with httpx.AsyncClient() as client:
            report = await make_connector(sim.url, client).test_connection()
    assert not report.ok
    assert "PowerSchool denied /ws/v1/" in report.message
    assert report.hint is not None
    assert "accessLevelV1Api" in report.hint
