"""The rest of the management plane over HTTP: Sync Schedule (show, set, next runs),
notifications (recipients, send test to a real SMTP server and webhook receiver), admin
accounts and key rotation (operators only), and API errors that name API fields."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import datetime
from email import message_from_bytes
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from api_helpers import PASSWORD, Api

from rostersync.admin.secrets import SecretStore
from rostersync.notify import SIGNATURE_HEADER, verify
from rostersync.notify.webhook import TIMESTAMP_HEADER
from rostersync.simulators.powerschool import RunningSimulator
from support.configs import powerschool_config
from support.mail import Sink, SmtpServer
from support.webhooks import Receiver, serve_posts

HOOK_SECRET = "h00k-S3cret-planted-4d2e"


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A real SMTP server; the app's settings point at it (set before the app is built)."""
    sink = Sink()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("ROSTERSYNC_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ROSTERSYNC_SMTP_PORT", str(port))
    monkeypatch.setenv("ROSTERSYNC_SMTP_STARTTLS", "false")
    try:
        yield SmtpServer("127.0.0.1", port, sink)
    finally:
        controller.stop()


def _configured(api: Api, sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch) -> str:
    d = api.store.create_district("Plane Valley")
    body = powerschool_config(sim.url, monkeypatch, district=d.name, attribute_mapping=None)
    body["sources"][0]["delivery"]["client_secret"] = "store:ps"
    operator = api.client(api.account("root", "operator"))
    assert operator.put(f"/districts/{d.slug}/config", json=body).status_code == 200
    return d.slug


def test_schedule_show_set_and_next_runs(
    api: Api, sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    slug = _configured(api, sim, monkeypatch)
    admin = api.client(api.account("ada", "district_admin", [api.store.get_district(slug).id]))
    shown = admin.get(f"/districts/{slug}/schedule")
    assert shown.status_code == 200, shown.text
    assert shown.json()["active"] is False
    assert shown.json()["next_runs"] == []
    assert shown.json()["scheduler_running"] is False

    weekly = {
        "every": "weekly",
        "days": ["mon", "thu"],
        "at": "02:30",
        "timezone": "America/Chicago",
    }
    put = admin.put(f"/districts/{slug}/schedule", json=weekly)
    assert put.status_code == 200, put.text
    assert put.json()["version"] == 2
    assert put.json()["created_by"] == "api:ada"
    again = admin.put(f"/districts/{slug}/schedule", json=weekly)
    assert again.json()["version"] == 2  # unchanged: no new version

    shown = admin.get(f"/districts/{slug}/schedule", params={"count": 4}).json()
    assert shown["active"] is True
    assert shown["schedule"]["days"] == ["mon", "thu"]
    assert "weekly on mon, thu at 02:30" in shown["summary"]
    runs = [datetime.fromisoformat(n["at"]) for n in shown["next_runs"]]
    assert len(runs) == 4
    assert runs == sorted(runs)
    chicago = [r.astimezone(ZoneInfo("America/Chicago")) for r in runs]
    assert {(c.strftime("%a"), c.hour, c.minute) for c in chicago} <= {
        ("Mon", 2, 30),
        ("Thu", 2, 30),
    }
    nxt = admin.get(f"/districts/{slug}/schedule/next").json()
    assert [datetime.fromisoformat(n["at"]) for n in nxt] == runs[:1]

    # Bad input: every problem named with its configuration path, nothing saved.
    bad = admin.put(f"/districts/{slug}/schedule", json={"every": "weekly", "at": "25:00"})
    assert bad.status_code == 422, bad.text
    paths = {p["path"] for p in bad.json()["error"]["problems"]}
    assert any(p.startswith("sync_schedule") for p in paths), paths
    assert admin.put(f"/districts/{slug}/schedule", json=["daily"]).status_code == 422
    zone = admin.put(f"/districts/{slug}/schedule", json={"every": "daily", "timezone": "Mars"})
    assert zone.status_code == 422
    assert "time zone" in zone.text
    too_many = admin.get(f"/districts/{slug}/schedule", params={"count": 51})
    assert too_many.status_code == 422
    assert too_many.json()["error"]["problems"][0]["path"] == "query.count"
    versions = admin.get(f"/districts/{slug}/config/versions").json()
    assert [v["version"] for v in versions] == [2, 1]
    actions = [e["action"] for e in admin.get("/audit", params={"district": slug}).json()]
    assert actions.count("config.sync_schedule") == 1


def test_notifications_recipients_and_send_test(
    smtp: SmtpServer, api: Api, sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    slug = _configured(api, sim, monkeypatch)
    district_id = api.store.get_district(slug).id
    admin = api.client(api.account("ada", "district_admin", [district_id]))
    none = admin.post(f"/districts/{slug}/notifications/test")
    assert none.status_code == 422
    assert "no notification recipients" in none.json()["error"]["message"]

    receiver = Receiver("")
    with serve_posts(receiver.answer) as hook:
        stored = admin.put(f"/districts/{slug}/secrets/hook", json={"value": HOOK_SECRET})
        assert stored.status_code == 200
        section = {
            "emails": ["it@plane.example"],
            "on_new_data": False,
            "webhooks": [{"url": hook, "secret": "store:hook", "events": ["failed"]}],
        }
        put = admin.put(f"/districts/{slug}/notifications", json=section)
        assert put.status_code == 200, put.text
        shown = admin.get(f"/districts/{slug}/notifications").json()
        assert shown["emails"] == ["it@plane.example"]
        assert shown["on_new_data"] is False
        assert shown["webhooks"][0]["secret"] == "store:hook"

        sent = admin.post(f"/districts/{slug}/notifications/test")
        assert sent.status_code == 200, sent.text
    result = sent.json()
    assert (result["delivered"], result["failed"]) == (2, 0), result
    assert HOOK_SECRET not in sent.text
    # The webhook got one signed test message, whatever events it asked for.
    ((headers, body),) = receiver.requests
    assert headers["X-Rostersync-Event"] == "test"
    assert verify(HOOK_SECRET, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
    assert b'"test":true' in body
    # The mailbox got the test message.
    (envelope,) = smtp.sink.messages
    assert envelope.rcpt_tos == ["it@plane.example"]
    mail = message_from_bytes(envelope.content)
    assert "test notification" in mail["Subject"]
    assert "api:ada" in mail.get_payload()

    # The receiver is gone now: a failed delivery is reported (200), not an error.
    failed = admin.post(f"/districts/{slug}/notifications/test").json()
    assert failed["failed"] == 1
    hook_result = next(d for d in failed["deliveries"] if d["channel"] == "webhook")
    assert hook_result["status"] == "failed"
    assert hook_result["error"]
    actions = [e["action"] for e in admin.get("/audit", params={"district": slug}).json()]
    assert actions.count("notifications.test") == 2
    assert "config.notifications" in actions


def test_notifications_bad_input(
    api: Api, sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    slug = _configured(api, sim, monkeypatch)
    admin = api.client(api.account("ada", "district_admin", [api.store.get_district(slug).id]))
    bad = admin.put(f"/districts/{slug}/notifications", json={"emails": ["not-an-address"]})
    assert bad.status_code == 422
    assert bad.json()["error"]["problems"][0]["path"].startswith("notifications.emails")
    # A district admin may not point a webhook's secret at the server's environment or files.
    env = admin.put(
        f"/districts/{slug}/notifications",
        json={"webhooks": [{"url": "https://hooks.example/x", "secret": "env:HOME"}]},
    )
    assert env.status_code == 422
    assert env.json()["error"]["problems"][0]["path"] == "notifications.webhooks[0].secret"
    unknown = admin.put(f"/districts/{slug}/notifications", json={"pager": "yes"})
    assert unknown.status_code == 422
    assert [v["version"] for v in admin.get(f"/districts/{slug}/config/versions").json()] == [1]


def test_admin_accounts_and_key_rotation_are_for_operators(api: Api) -> None:
    a, b = api.store.create_district("Alpha"), api.store.create_district("Beta")
    operator = api.client(api.account("root", "operator"))
    admin = api.client(api.account("ada", "district_admin", [a.id]))
    viewer = api.client(api.account("vic", "viewer", [a.id]))
    anonymous = api.client(None)
    new = {"name": "bob", "role": "district_admin", "password": PASSWORD, "districts": [a.slug]}
    for client, status in ((admin, 403), (viewer, 403), (anonymous, 401)):
        assert client.get("/admins").status_code == status
        assert client.post("/admins", json=new).status_code == status
        assert client.post("/installation/secret-key/rotate").status_code == status
        assert client.put(f"/admins/ada/districts/{b.slug}").status_code == status

    created = operator.post("/admins", json=new)
    assert created.status_code == 201, created.text
    assert created.json()["districts"] == [a.id]
    assert PASSWORD not in created.text
    assert {x["name"] for x in operator.get("/admins").json()} == {"root", "ada", "vic", "bob"}
    granted = operator.put(f"/admins/bob/districts/{b.slug}")
    assert granted.json() == {"name": "bob", "district_id": b.id, "changed": True}
    assert operator.get("/admins/bob").json()["districts"] == [a.id, b.id]
    assert operator.delete(f"/admins/bob/districts/{a.slug}").status_code == 200
    assert operator.delete(f"/admins/bob/districts/{a.slug}").status_code == 404
    assert operator.get("/admins/bob").json()["districts"] == [b.id]
    reset = operator.post("/admins/bob/password", json={"password": "a brand new passphrase"})
    assert reset.status_code == 204
    signed_in = api.accounts.authenticate("bob", "a brand new passphrase", address="test")
    assert signed_in.name == "bob"

    # Bad input: clear 4xx naming the field, never the command line's options.
    role = operator.post("/admins", json=new | {"name": "carl", "role": "king"})
    assert role.status_code == 422
    assert role.json()["error"]["message"].startswith("role:")
    assert "--" not in role.text
    short = operator.post("/admins", json=new | {"name": "dan", "password": "short"})
    assert short.status_code == 422
    assert "too short" in short.json()["error"]["message"]
    assert (
        operator.post("/admins", json=new | {"name": "eve", "districts": ["nope"]}).status_code
        == 404
    )
    assert operator.get("/admins/nobody").status_code == 404
    assert operator.put("/admins/nobody/districts/alpha").status_code == 404
    op_grant = operator.post("/admins", json=new | {"name": "fay", "role": "operator"})
    assert op_grant.status_code == 422
    assert operator.post("/admins", json=new).status_code == 422  # the name is taken

    secrets = SecretStore(api.store, api.settings)
    secrets.put(a.id, "ps", "planted-value-r0tate", actor="cli:root")
    rotated = operator.post("/installation/secret-key/rotate")
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["reencrypted"] == 1
    assert secrets.get(a.id, "ps") == "planted-value-r0tate"
    actions = {e["action"] for e in operator.get("/audit").json()}
    assert {"admin.create", "admin.grant", "admin.revoke", "admin.reset_password"} <= actions
    assert "secret.rotate_key" in actions


def test_service_errors_name_the_api_field(api: Api) -> None:
    d = api.store.create_district("Fields")
    operator = api.client(api.account("root", "operator"))
    bad = operator.post(
        f"/districts/{d.slug}/clients",
        json={"name": "App", "scopes": ["roster-core.readonly"], "grant": ["horoscopes"]},
    )
    assert bad.status_code == 422, bad.text
    error = bad.json()["error"]
    assert error["message"].startswith("grant: ")
    assert error["problems"] == [{"path": "grant", "message": error["message"][len("grant: ") :]}]
    assert "--" not in bad.text
    expiry = operator.post(
        f"/districts/{d.slug}/clients",
        json={"name": "App", "scopes": ["roster-core.readonly"], "expires": "someday"},
    )
    assert expiry.status_code == 422
    assert expiry.json()["error"]["message"].startswith("expires: ")


def test_versions_are_listed_a_page_at_a_time(api: Api) -> None:
    from rostersync.model import empty_roster

    d = api.store.create_district("Paged Versions")
    for i in range(5):  # five published versions
        api.store.publish(d.id, empty_roster(), note=f"publish {i}")
    admin = api.client(api.account("ada", "district_admin", [d.id]))
    base = f"/districts/{d.slug}/versions"
    everything = [v["version"] for v in admin.get(base).json()]
    assert everything == sorted(everything, reverse=True)
    assert len(everything) == 5
    pages, before = [], None
    while True:
        params = {"limit": 2} | ({"before": before} if before else {})
        page = [v["version"] for v in admin.get(base, params=params).json()]
        if not page:
            break
        assert len(page) <= 2
        pages += page
        before = page[-1]
    assert pages == everything
    assert admin.get(base, params={"limit": 0}).status_code == 422
    assert admin.get(base, params={"limit": 1001}).status_code == 422
    assert admin.get(base, params={"before": "x"}).status_code == 422
