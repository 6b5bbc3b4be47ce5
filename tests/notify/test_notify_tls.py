"""SMTP with STARTTLS and a login (credentials from settings), on a real loopback server; and no
secret of a notification reaches the log."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from rostersync.logs import configure_logging
from rostersync.notify import Event, NotificationsConfig, Notifier, send_email
from rostersync.settings import load_settings
from support.webhooks import Receiver

EVENT = Event("failed", "Springfield", run_id=3, reasons=["the extract failed: HTTP 503"])


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class _Handler:
    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope, session.authenticated))
        return "250 OK"


@pytest.fixture
def tls_smtp(tmp_path: Path) -> Iterator[tuple[int, _Handler, ssl.SSLContext]]:
    cert, key = _self_signed(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=str(cert))
    handler = _Handler()

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            b"mailer",
            b"smtp-pa55",
        )
        return AuthResult(success=ok)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_ctx,
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield port, handler, client_ctx
    finally:
        controller.stop()


def test_starttls_and_login(tls_smtp: tuple[int, _Handler, ssl.SSLContext]) -> None:
    port, handler, client_ctx = tls_smtp
    settings = load_settings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=True,
        smtp_username="mailer",
        smtp_password="smtp-pa55",
        smtp_from="rostersync@district.example.org",
    )
    send_email(settings, ["it@district.example.org"], EVENT, tls_context=client_ctx)
    ((envelope, authenticated),) = handler.messages
    assert authenticated
    assert envelope.mail_from == "rostersync@district.example.org"
    assert b"the extract failed: HTTP 503" in envelope.content


def test_no_secret_reaches_the_log(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("DEBUG")
    logging.getLogger().setLevel(logging.DEBUG)
    monkeypatch.setenv("HOOK_SECRET", "very-secret-signing-key")
    receiver.fail_first = 1
    url = receiver.url + "/T000/B000/token-in-the-path?key=abc123"
    config = NotificationsConfig(webhooks=[{"url": url, "secret": "env:HOOK_SECRET"}])
    deliveries = Notifier(load_settings(), config, sleep=lambda _: None).notify(EVENT)
    assert [d.status for d in deliveries] == ["retrying", "delivered"]
    assert deliveries[0].target.endswith("/…")
    logged = capsys.readouterr()
    text = logged.out + logged.err
    assert "notification" in text
    for secret in ("very-secret-signing-key", "token-in-the-path", "abc123"):
        assert secret not in text
