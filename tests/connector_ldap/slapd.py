"""A real OpenLDAP ``slapd`` for the LDAP connector's tests: its own port, config and database.

The server runs in the foreground as a child process on a free 127.0.0.1 port, with a config
file and an MDB database in a temporary directory (never the system service). It loads the
Active Directory attribute types shipped with OpenLDAP (``msuser.schema``: ``sAMAccountName``,
``employeeID``, ``userAccountControl``, a binary ``objectGUID``), an auxiliary class carrying them
and the ``memberof`` overlay, so entries look like Active Directory's. ``cn=limited`` may read
at most a few entries per paged search in total (``size.prtotal``): the server then stops with
sizeLimitExceeded, a directory answering less than it holds. It also listens on ldaps:// and
offers StartTLS, with a certificate from a throwaway CA (:mod:`.certs`).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from connector_ldap.certs import Certificates, make_certificates
from support.servers import free_port

SUFFIX = "dc=springfield,dc=k12"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PASSWORD = "root-password-not-the-reader"
READER_DN = f"cn=reader,ou=Service,{SUFFIX}"
READER_PASSWORD = "reader-bind-secret-9f2c"
LIMITED_DN = f"cn=limited,ou=Service,{SUFFIX}"
#: What ``cn=limited`` may read in total per paged search before the server stops.
LIMITED_TOTAL = 10
SCHEMAS = ("core", "cosine", "inetorgperson", "nis", "msuser")
#: Active Directory puts these on a user through auxiliary classes; one test class carries them
#: (OID under OpenLDAP's experimental arc).
AD_PERSON = """\
objectclass ( 1.3.6.1.4.1.4203.666.11.99.1 NAME 'adPerson' AUXILIARY
  MAY ( sAMAccountName $ employeeID $ objectGUID $ userAccountControl $ memberOf ) )
"""

CONFIG = """\
{includes}
pidfile {dir}/slapd.pid
argsfile {dir}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
sizelimit unlimited
TLSCACertificateFile {ca}
TLSCertificateFile {cert}
TLSCertificateKeyFile {key}

database mdb
suffix "{suffix}"
rootdn "{root_dn}"
rootpw {root_password}
directory {dir}/db
maxsize 104857600
limits dn.exact="{limited_dn}" size.prtotal={limited_total}
access to attrs=userPassword by anonymous auth by * none
access to * by users read by * none
overlay memberof
"""


@dataclass
class Slapd:
    """A running ``slapd``; :meth:`stop` ends it (only this process)."""

    process: subprocess.Popen[bytes]
    port: int
    directory: Path
    tls_port: int
    certificates: Certificates

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://127.0.0.1:{self.tls_port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_slapd(directory: Path) -> Slapd:
    """Write a config into ``directory`` and start ``slapd`` on a free port."""
    binary = shutil.which("slapd") or "/usr/sbin/slapd"
    if not Path(binary).exists() or not Path("/etc/ldap/schema/msuser.schema").exists():
        raise RuntimeError(
            "the LDAP tests need OpenLDAP's slapd and its schemas: apt-get install slapd "
            "ldap-utils (.ci/run does)"
        )
    (directory / "db").mkdir(parents=True, exist_ok=True)
    certificates = make_certificates(directory)
    (directory / "adperson.schema").write_text(AD_PERSON, encoding="utf-8")
    includes = "\n".join(f"include /etc/ldap/schema/{s}.schema" for s in SCHEMAS)
    includes += f"\ninclude {directory}/adperson.schema"
    config = directory / "slapd.conf"
    config.write_text(
        CONFIG.format(
            includes=includes,
            dir=directory,
            suffix=SUFFIX,
            root_dn=ROOT_DN,
            root_password=ROOT_PASSWORD,
            limited_dn=LIMITED_DN,
            limited_total=LIMITED_TOTAL,
            ca=certificates.ca,
            cert=certificates.cert,
            key=certificates.key,
        ),
        encoding="utf-8",
    )
    port, tls_port = free_port(), free_port()
    listen = f"ldap://127.0.0.1:{port}/ ldaps://127.0.0.1:{tls_port}/"
    with (directory / "slapd.log").open("wb") as log:  # the child keeps its own copy
        process = subprocess.Popen(
            [binary, "-f", str(config), "-h", listen, "-d", "0"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Slapd(process, port, directory, tls_port, certificates)
    deadline = time.monotonic() + 20
    while True:
        if process.poll() is not None:
            text = (directory / "slapd.log").read_text(errors="replace")
            raise RuntimeError(f"slapd exited with {process.returncode}: {text[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError("slapd did not start listening within 20 s") from None
            time.sleep(0.05)
