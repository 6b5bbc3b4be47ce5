"""A throwaway Active Directory look-alike: OpenLDAP's ``slapd`` on a free 127.0.0.1 port.

Data from multiple sources needs a directory beside the SIS (the seed's own example is SIS plus
Active Directory). This starts Debian's ``slapd`` in the foreground as a child process, with a
config and an MDB database in a temporary directory (never the system service), the Active
Directory attribute types OpenLDAP ships (``msuser.schema``: ``sAMAccountName``, ``employeeID``,
``objectGUID``, ``userAccountControl``) on an auxiliary class, one read-only bind account, and
writes the entries it is given. :func:`running_directory` stops the server and removes its files.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ldap3 import Connection, Server

from rostersync.errors import ConfigurationError

SCHEMA_DIR = Path("/etc/ldap/schema")
SCHEMAS = ("core", "cosine", "inetorgperson", "nis", "msuser")
DEBIAN_PACKAGES = "slapd ldap-utils"
#: Active Directory puts its user attributes on a person through auxiliary classes; one class
#: carries them here (an OID under OpenLDAP's experimental arc).
AD_PERSON = """\
objectclass ( 1.3.6.1.4.1.4203.666.11.99.1 NAME 'adPerson' AUXILIARY
  MAY ( sAMAccountName $ employeeID $ objectGUID $ userAccountControl ) )
"""
CONFIG = """\
{includes}
pidfile {dir}/slapd.pid
argsfile {dir}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
sizelimit unlimited

database mdb
suffix "{suffix}"
rootdn "{root_dn}"
rootpw {root_password}
directory {dir}/db
maxsize 104857600
access to attrs=userPassword by anonymous auth by * none
access to * by users read by * none
"""


def find_slapd() -> str:
    """The ``slapd`` binary, or a clear error naming the Debian packages to install."""
    # Debian installs slapd in /usr/sbin, which a non-root PATH often lacks.
    search = os.pathsep.join((os.environ.get("PATH", ""), "/usr/sbin", "/sbin"))
    binary = shutil.which("slapd", path=search)
    if binary is None or not (SCHEMA_DIR / "msuser.schema").is_file():
        raise ConfigurationError(
            "the multi-source demo needs OpenLDAP's slapd and its schemas, which are not installed",
            hint=f"install the Debian packages: sudo apt-get install {DEBIAN_PACKAGES}",
        )
    return binary


@dataclass(frozen=True)
class RunningDirectory:
    """A running directory: where it listens and who may read it."""

    url: str
    suffix: str
    reader_dn: str
    reader_password: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 20
    while True:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-1000:]
            raise ConfigurationError(
                f"slapd exited with status {process.returncode} on start: {tail}",
                hint="check that slapd runs on this machine (slapd -VV)",
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise ConfigurationError(
                    "slapd did not listen within 20 s", hint="try again"
                ) from None
            time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _terminate_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """While the directory runs, SIGTERM unwinds (the ``finally`` stops slapd) instead of
    ending Python at once and leaving slapd and its files behind."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate_cleanly)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def running_directory(
    suffix: str, entries: Iterable[tuple[str, list[str], dict[str, Any]]]
) -> Iterator[RunningDirectory]:
    """``slapd`` serving ``suffix`` with ``entries`` (dn, object classes, attributes) written,
    and a reader account ``cn=reader,ou=Service,<suffix>`` with a fresh random password."""
    binary = find_slapd()
    root_password = secrets.token_urlsafe(24)
    reader_dn = f"cn=reader,ou=Service,{suffix}"
    reader_password = secrets.token_urlsafe(24)
    # (a temporary directory is private to its owner: mode 0700)
    with _sigterm_unwinds(), tempfile.TemporaryDirectory(prefix="rostersync-slapd-") as tmp:
        folder = Path(tmp)
        (folder / "db").mkdir()
        (folder / "adperson.schema").write_text(AD_PERSON, encoding="utf-8")
        includes = "\n".join(f"include {SCHEMA_DIR}/{s}.schema" for s in SCHEMAS)
        includes += f"\ninclude {folder}/adperson.schema"
        config = folder / "slapd.conf"
        text = CONFIG.format(
            includes=includes,
            dir=folder,
            suffix=suffix,
            root_dn=f"cn=admin,{suffix}",
            root_password=root_password,
        )
        config.write_text(text, encoding="utf-8")
        config.chmod(0o600)
        port = _free_port()
        log = folder / "slapd.log"
        with log.open("wb") as out:  # the child keeps its own copy of the descriptor
            process = subprocess.Popen(  # noqa: S603 - slapd found above, our own arguments
                [binary, "-f", str(config), "-h", f"ldap://127.0.0.1:{port}/", "-d", "0"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_listening(process, port, log)
            url = f"ldap://127.0.0.1:{port}"
            _populate(url, suffix, root_password, reader_dn, reader_password, entries)
            yield RunningDirectory(url, suffix, reader_dn, reader_password)
        finally:
            _stop(process)


def _populate(
    url: str,
    suffix: str,
    root_password: str,
    reader_dn: str,
    reader_password: str,
    entries: Iterable[tuple[str, list[str], dict[str, Any]]],
) -> None:
    conn: Any = Connection(  # ldap3 is untyped
        Server(url), f"cn=admin,{suffix}", root_password, auto_bind=True, raise_exceptions=True
    )
    try:
        top = suffix.split(",")[0].split("=", 1)[1]
        conn.add(suffix, ["dcObject", "organization"], {"dc": top, "o": top})
        conn.add(f"ou=Service,{suffix}", ["organizationalUnit"])
        conn.add(reader_dn, ["person"], {"cn": "reader", "sn": "reader"})
        conn.modify(reader_dn, {"userPassword": [("MODIFY_REPLACE", [reader_password])]})
        for dn, classes, attributes in entries:
            conn.add(dn, classes, attributes)
    finally:
        conn.unbind()


__all__ = ["DEBIAN_PACKAGES", "RunningDirectory", "find_slapd", "running_directory"]
