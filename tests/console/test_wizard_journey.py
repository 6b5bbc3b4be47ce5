"""The whole journey in a real browser, on SQLite and PostgreSQL, with the PowerSchool simulator
as the SIS: a district admin goes from the Application Gallery through every step to RUN IMPORT
without YAML or a shell, and the counts the run page shows are what OneRoster then serves.
Every page is scanned by axe-core and screenshotted at laptop and tablet widths."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from console_helpers import Console, check_page, login
from playwright.sync_api import Page, expect

from rostersync import manage
from rostersync.manage import wizard
from rostersync.simulators.powerschool import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    RunningSimulator,
    SimulatorConfig,
    generate_district,
    run_simulator,
)

V12 = "/ims/oneroster/rostering/v1p2"
SCOPES = ("roster-core.readonly", "roster.readonly", "roster-demographics.readonly")


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    with run_simulator(generate_district("tiny", seed=11), SimulatorConfig()) as running:
        yield running


def save_and_next(page: Page) -> None:
    page.get_by_role("button", name="Save and next").click()
    page.wait_for_load_state()


def oneroster_total(console: Console, district_id: int, collection: str) -> int:
    """How many records OneRoster 1.2 serves, read as an app would (its own API client)."""
    issued = manage.create_api_client(
        console.store,
        "console:dana",
        console.settings.get_secret_key(),
        district_id,
        f"check-{collection}",
        SCOPES,
    )
    with httpx.Client(base_url=console.url, timeout=30) as http:
        token = http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(issued.client.client_id, issued.client_secret),
        )
        assert token.status_code == 200, token.text
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        answer = http.get(f"{V12}/{collection}", params={"limit": 1}, headers=bearer)
        assert answer.status_code == 200, answer.text
        return int(answer.headers["X-Total-Count"])


def test_from_the_gallery_to_run_import(
    console: Console, page: Page, sim: RunningSimulator
) -> None:
    d = console.store.create_district("Springfield")
    console.account("dana", "district_admin", (d.id,))
    login(page, console, "dana")
    base = f"{console.url}/console/d/springfield/wizard"

    page.goto(base)
    expect(page.get_by_role("heading", name="Application Gallery")).to_be_visible()
    check_page(page, "wizard gallery", console.backend)
    page.get_by_role("button", name="Open PowerSchool SIS").click()
    check_page(page, "wizard app card", console.backend)
    page.get_by_label("Source name").fill("sis")
    page.get_by_role("button", name="Activate").click()

    expect(page.get_by_role("heading", name=re.compile("Sync Mode"))).to_be_visible()
    check_page(page, "wizard sync mode", console.backend)
    page.get_by_role("radio", name=re.compile(r"Import —")).check()
    page.get_by_role("button", name="Next").click()

    # Delivery Config: a URL pasted with /ws/v1 is recognised before anything is saved.
    expect(page.get_by_role("heading", name=re.compile("Delivery Config"))).to_be_visible()
    page.get_by_label(re.compile("^Service URL")).fill(sim.url + "/ws/v1")
    page.get_by_label("Client ID").fill(DEFAULT_CLIENT_ID)
    page.get_by_label(re.compile("^Client secret")).fill(DEFAULT_CLIENT_SECRET)
    page.get_by_role("button", name="Test Connection").click()
    result = page.locator("#connection-result")
    expect(result).to_contain_text("includes PowerSchool's API path /ws/v1")
    expect(page.locator("#suggested-url")).to_have_text(sim.url)
    page.get_by_text("Advanced Settings", exact=True).click()
    check_page(page, "wizard delivery config", console.backend)
    page.get_by_label(re.compile("^Service URL")).fill(sim.url)
    page.get_by_role("button", name="Test Connection").click()
    expect(result).to_contain_text("Connected")
    save_and_next(page)
    assert manage.list_config_versions(console.store, d.id)[0].comment == "wizard delivery: sis"
    _, body = manage.get_config_version(console.store, d.id)
    assert body["sources"][0]["delivery"]["client_secret"] == "store:sis-client-secret"

    expect(page.get_by_role("heading", name=re.compile("Schools Mapping"))).to_be_visible()
    schools = page.locator("tbody tr")
    assert schools.count() == sim.district.counts()["v1_schools"]
    check_page(page, "wizard schools mapping", console.backend)
    page.get_by_role("button", name=re.compile("AUTO MAPPING")).click()

    # Attributes Mapping: the field finder inserts TABLE.field; the sample shows it mapped.
    expect(page.get_by_role("heading", name=re.compile("Attributes Mapping"))).to_be_visible()
    page.get_by_label("New student attribute 1").fill("email")
    page.get_by_label("Search").fill("school_email")
    insert = page.get_by_role("button", name="Insert U_DEF_EXT_STUDENTS.school_email")
    expect(insert).to_be_visible()
    page.get_by_label("New student source field 1").click()
    insert.click()
    expect(page.get_by_label("New student source field 1")).to_have_value(
        "U_DEF_EXT_STUDENTS.school_email"
    )
    page.get_by_role("button", name="Show 5 mapped records").click()
    expect(page.locator("#sample caption")).to_contain_text("5 of")
    expect(page.locator("#sample")).to_contain_text("@students.example.org")
    check_page(page, "wizard attributes mapping", console.backend)
    save_and_next(page)

    expect(page.get_by_role("heading", name=re.compile("Data Requirements"))).to_be_visible()
    page.get_by_text("Student (0 required)").click()
    page.locator("#req-student-email").select_option("report")
    check_page(page, "wizard data requirements", console.backend)
    save_and_next(page)

    expect(page.get_by_role("heading", name=re.compile("Filter Rules"))).to_be_visible()
    page.locator("#tpl-student").select_option("active_students_only")
    page.get_by_role("button", name="Count").click()
    expect(page.locator("#counts")).to_contain_text("active_students_only")
    check_page(page, "wizard filter rules", console.backend)
    save_and_next(page)

    expect(page.get_by_role("heading", name=re.compile("Domains of Uniqueness"))).to_be_visible()
    check_page(page, "wizard uniqueness domains", console.backend)
    save_and_next(page)
    expect(page.get_by_role("heading", name=re.compile("Master Fields"))).to_be_visible()
    check_page(page, "wizard master fields", console.backend)
    save_and_next(page)

    # Sync Schedule: a problem is shown next to its field, and nothing is saved.
    expect(page.get_by_role("heading", name=re.compile("Sync Schedule"))).to_be_visible()
    versions = len(manage.list_config_versions(console.store, d.id))
    page.get_by_label("How often").select_option("daily")
    page.get_by_label(re.compile("^Time zone")).fill("Mars/Olympus")
    save_and_next(page)
    expect(page.locator("#timezone-error")).to_contain_text("IANA time zone")
    assert len(manage.list_config_versions(console.store, d.id)) == versions
    check_page(page, "wizard sync schedule", console.backend)
    page.get_by_label(re.compile("^Time zone")).fill("America/Chicago")
    page.get_by_label(re.compile("^Email these admins")).fill("it@springfield.example.org")
    save_and_next(page)

    expect(page.get_by_role("heading", name=re.compile("Done"))).to_be_visible()
    page.get_by_role("button", name="FINISH").click()
    expect(page.get_by_text("Finished.")).to_be_visible()
    check_page(page, "wizard done", console.backend)
    page.get_by_role("button", name="RUN IMPORT").click()
    expect(page.locator("#published-version")).to_be_visible(timeout=120_000)
    check_page(page, "wizard run import", console.backend)

    shown = {
        name: int(page.locator(f'#published-counts [data-entity="{name}"]').inner_text())
        for name in ("students", "teachers", "classes")
    }
    assert shown["students"] > 0
    assert oneroster_total(console, d.id, "students") == shown["students"]
    assert oneroster_total(console, d.id, "teachers") == shown["teachers"]
    assert oneroster_total(console, d.id, "classes") == shown["classes"]
    comments = [v.comment for v in manage.list_config_versions(console.store, d.id)]
    for step in ("delivery", "schools_mapping", "attribute_mapping", "done"):
        assert f"wizard {step}: sis" in comments
    _, body = manage.get_config_version(console.store, d.id)
    assert body["sync_schedule"]["timezone"] == "America/Chicago"
    assert body["hold_threshold"]["delete_percent"] == 10  # the defaults a new form starts from
    assert body["hold_threshold"]["update_percent"] == 75
    assert body["sources"][0]["filter_rules"] == {"student": [{"template": "active_students_only"}]}


def test_wizard_forms_need_their_token_and_their_district(
    console: Console, page: Page, sim: RunningSimulator
) -> None:
    mine = console.store.create_district("Springfield")
    console.store.create_district("Shelbyville")
    console.account("dana", "district_admin", (mine.id,))
    login(page, console, "dana")
    base = f"{console.url}/console/d/springfield/wizard"
    refused = page.request.post(base + "/apps/powerschool/activate", form={"name": "sis"})
    assert refused.status == 403
    assert manage.list_config_versions(console.store, mine.id) == []
    for path in ("", "/apps/powerschool", "/sources/sis/delivery", "/export.yaml"):
        other = page.request.get(f"{console.url}/console/d/shelbyville/wizard{path}")
        assert other.status == 404, path
    page.goto(base + "/sources/sis/colours")
    expect(page.get_by_role("alert")).to_contain_text("No wizard step 'colours'")


def test_yaml_out_and_back_in(
    console: Console, page: Page, sim: RunningSimulator, tmp_path: Path
) -> None:
    d = console.store.create_district("Springfield")
    console.account("dana", "district_admin", (d.id,))
    values = {
        "name": "sis",
        "app": "powerschool",
        "delivery": {
            "url": sim.url,
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
        },
    }
    wizard.save_step(console.store, console.settings, "cli:root", d.id, "delivery", values)
    login(page, console, "dana")
    page.goto(f"{console.url}/console/d/springfield/wizard")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export the configuration as YAML").click()
    exported = tmp_path / "springfield.yaml"
    download.value.save_as(exported)
    text = exported.read_text()
    assert "store:sis-client-secret" in text
    assert DEFAULT_CLIENT_SECRET not in text

    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("schools_mapping: auto", "schools_mapping: sometimes"))
    page.get_by_label("YAML file").set_input_files(str(broken))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("alert")).to_contain_text("sources[0].schools_mapping")
    check_page(page, "wizard import refused", console.backend)
    assert len(manage.list_config_versions(console.store, d.id)) == 1

    page.get_by_label("YAML file").set_input_files(str(exported))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("The YAML file was imported")).to_be_visible()
    expect(page.get_by_role("button", name="FINISH")).to_be_visible()
    assert manage.list_config_versions(console.store, d.id)[0].comment == "wizard import"
