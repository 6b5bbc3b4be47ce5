"""Benchmark: the LDAP / Active Directory source against a real slapd holding a big directory.

A temporary OpenLDAP server (its own config, database and port; never the system service) is
bulk-loaded with ``slapadd`` with N students and M staff shaped like Active Directory users
(``sAMAccountName``, ``employeeID``, a binary ``objectGUID``, ``memberOf`` of one of 20 groups),
then read three ways, each ``--runs`` times, back to back:

- ``connector_c1`` / ``connector_c2``: our extraction (paged searches, mapping to canonical
  tables) with ``concurrency`` 1 and 2 (the students and staff searches one after the other, or
  at once);
- ``bare``: the same paged searches on one connection with plain ``ldap3``, nothing decoded or
  mapped — what the server and the protocol allow.

Prints one JSON object (medians of the runs, entries per second, the connector's overhead over
the bare read, peak memory). Example::

    .venv/bin/python bench/ldap_extract.py --students 50000 --staff 5000 --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from ldap3 import SUBTREE, Connection, Server

from _common import emit, load_average, machine, peak_rss_mb, progress
from rostersync.config import validate_config
from rostersync.connectors.ldap import LdapConnector

SUFFIX = "dc=bench,dc=k12"
ROOT_DN, PASSWORD = f"cn=admin,{SUFFIX}", "bench-root-password"
GROUPS = 20
AD_PERSON = """\
objectclass ( 1.3.6.1.4.1.4203.666.11.99.1 NAME 'adPerson' AUXILIARY
  MAY ( sAMAccountName $ employeeID $ objectGUID $ userAccountControl $ memberOf ) )
"""
CONFIG = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/msuser.schema
include {dir}/adperson.schema
pidfile {dir}/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
sizelimit unlimited
database mdb
suffix "{suffix}"
rootdn "{root}"
rootpw {password}
directory {dir}/db
maxsize 4294967296
"""


def _b64(raw: bytes) -> str:
    import base64

    return base64.b64encode(raw).decode("ascii")


def write_ldif(path: Path, students: int, staff: int) -> None:
    """The whole directory as one LDIF file (for slapadd)."""
    with path.open("w", encoding="utf-8") as out:
        out.write(f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\n")
        out.write("o: Bench\ndc: bench\n\n")
        for ou in ("Students", "Staff", "Groups"):
            out.write(f"dn: ou={ou},{SUFFIX}\nobjectClass: organizationalUnit\nou: {ou}\n\n")
        members: dict[int, list[str]] = {g: [] for g in range(GROUPS)}
        for kind, count in (("Students", students), ("Staff", staff)):
            for i in range(count):
                dn = f"cn={kind[:2]}{i:07d},ou={kind},{SUFFIX}"
                group = i % GROUPS
                members[group].append(dn)
                guid = uuid.uuid5(uuid.NAMESPACE_DNS, dn).bytes_le
                out.write(
                    f"dn: {dn}\nobjectClass: inetOrgPerson\nobjectClass: adPerson\n"
                    f"cn: {kind[:2]}{i:07d}\nsn: Family{i % 997}\ngivenName: Given{i % 1009}\n"
                    f"sAMAccountName: {kind[:2].lower()}{i:07d}\nemployeeID: {i}\n"
                    f"mail: {kind[:2].lower()}{i:07d}@bench.k12\nobjectGUID:: {_b64(guid)}\n"
                    f"physicalDeliveryOfficeName: {100 + i % 40}\n"
                    f"departmentNumber: {i % 13:02d}\nuserAccountControl: 512\n"
                    f"memberOf: cn=Group {group},ou=Groups,{SUFFIX}\n\n"
                )
        for group, dns in members.items():
            out.write(f"dn: cn=Group {group},ou=Groups,{SUFFIX}\nobjectClass: groupOfNames\n")
            out.write(f"cn: Group {group}\n")
            out.writelines(f"member: {dn}\n" for dn in dns or [SUFFIX])
            out.write("\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(directory: Path, students: int, staff: int) -> tuple[subprocess.Popen[bytes], int]:
    (directory / "db").mkdir()
    (directory / "adperson.schema").write_text(AD_PERSON, encoding="utf-8")
    config = directory / "slapd.conf"
    config.write_text(
        CONFIG.format(dir=directory, suffix=SUFFIX, root=ROOT_DN, password=PASSWORD),
        encoding="utf-8",
    )
    ldif = directory / "district.ldif"
    write_ldif(ldif, students, staff)
    slapadd = shutil.which("slapadd") or "/usr/sbin/slapadd"
    subprocess.run([slapadd, "-q", "-f", str(config), "-l", str(ldif)], check=True)
    port = free_port()
    slapd = shutil.which("slapd") or "/usr/sbin/slapd"
    process = subprocess.Popen(
        [slapd, "-f", str(config), "-h", f"ldap://127.0.0.1:{port}/", "-d", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, port
        except OSError:
            time.sleep(0.05)
    process.terminate()
    raise SystemExit("slapd did not start")


def connector(port: int, page_size: int, concurrency: int) -> LdapConnector:
    source = {
        "name": "directory",
        "app": "ldap",
        "delivery": {
            "url": f"ldap://127.0.0.1:{port}",
            "client_id": ROOT_DN,
            "client_secret": "env:UNUSED",
        },
        "connector": {
            "page_size": page_size,
            "concurrency": concurrency,
            "timeout_seconds": 120,
            "students": {
                "base_dn": f"ou=Students,{SUFFIX}",
                "school_attribute": "physicalDeliveryOfficeName",
                "attributes": {"grades": "departmentNumber"},
            },
            "staff": {
                "base_dn": f"ou=Staff,{SUFFIX}",
                "school_attribute": "physicalDeliveryOfficeName",
            },
        },
    }
    config = validate_config({"district": "Bench", "sources": [source]}, "bench").sources[0]
    ldap, _ = LdapConnector.from_source(config, PASSWORD)
    return ldap


#: Per kind of run: wall seconds, process CPU seconds (every thread: a figure the machine's load
#: does not inflate), and for the connector its own map_seconds.
Timing = dict[str, float]


def run_connector(port: int, page_size: int, concurrency: int) -> tuple[Timing, int]:
    ldap = connector(port, page_size, concurrency)
    stats: dict[str, Any] = {}

    async def go() -> int:
        result = await ldap.extract()
        stats.update(result.stats)
        return int(result.roster["users"].height)

    started, cpu = time.perf_counter(), time.process_time()
    users = asyncio.run(go())
    return {
        "wall": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "map": float(stats["map_seconds"]),
    }, users


def run_bare(port: int, page_size: int, attributes: list[str]) -> tuple[Timing, int]:
    started, cpu = time.perf_counter(), time.process_time()
    conn = Connection(
        Server(f"ldap://127.0.0.1:{port}", get_info="NO_INFO"),
        ROOT_DN,
        PASSWORD,
        auto_bind=True,
    )
    entries = 0
    for ou in ("Students", "Staff"):
        found = conn.extend.standard.paged_search(
            f"ou={ou},{SUFFIX}",
            "(|(objectClass=user)(objectClass=inetOrgPerson))",
            SUBTREE,
            attributes=attributes,
            paged_size=page_size,
            generator=True,
        )
        entries += sum(1 for e in found if e.get("type") == "searchResEntry")
    conn.unbind()
    return {"wall": time.perf_counter() - started, "cpu": time.process_time() - cpu}, entries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--staff", type=int, default=5_000)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    total = args.students + args.staff
    with tempfile.TemporaryDirectory(prefix="ldap-bench-") as tmp:
        started = time.perf_counter()
        process, port = start(Path(tmp), args.students, args.staff)
        load_seconds = round(time.perf_counter() - started, 3)
        progress(f"directory of {total:,} people loaded in {load_seconds} s")
        try:
            spec = connector(port, args.page_size, 1).specs()[0]
            times: dict[str, list[Timing]] = {"bare": [], "connector_c1": [], "connector_c2": []}
            for run in range(args.runs):  # interleaved, so each kind sees the same noise
                timing, n = run_bare(port, args.page_size, list(spec.attributes))
                assert n == total, n
                times["bare"].append(timing)
                for concurrency in (1, 2):
                    timing, n = run_connector(port, args.page_size, concurrency)
                    assert n == total, n
                    times[f"connector_c{concurrency}"].append(timing)
                shown = ", ".join(
                    f"{k} {v[-1]['wall']:.2f} s (cpu {v[-1]['cpu']:.2f})" for k, v in times.items()
                )
                progress(f"run {run + 1}: {shown}")
        finally:
            process.terminate()
            process.wait(timeout=30)

    def median(kind: str, what: str) -> float:
        return statistics.median(t[what] for t in times[kind])

    wall = {k: median(k, "wall") for k in times}
    cpu = {k: median(k, "cpu") for k in times}
    result: dict[str, Any] = {
        "benchmark": "ldap_extract",
        "people": total,
        "students": args.students,
        "staff": args.staff,
        "page_size": args.page_size,
        "runs": args.runs,
        "slapadd_and_start_seconds": load_seconds,
        "runs_detail": {
            k: [{m: round(x, 3) for m, x in t.items()} for t in v] for k, v in times.items()
        },
        "median_wall_seconds": {k: round(v, 3) for k, v in wall.items()},
        "median_cpu_seconds": {k: round(v, 3) for k, v in cpu.items()},
        "median_map_seconds": {k: round(median(k, "map"), 3) for k in times if k != "bare"},
        "entries_per_second": {k: round(total / v) for k, v in wall.items()},
        "entries_per_cpu_second": {k: round(total / v) for k, v in cpu.items()},
        "connector_c1_over_bare_cpu": round(cpu["connector_c1"] / cpu["bare"], 2),
        "connector_c1_over_bare_wall": round(wall["connector_c1"] / wall["bare"], 2),
        "c1_over_c2_wall": round(wall["connector_c1"] / wall["connector_c2"], 2),
        "peak_rss_mb": peak_rss_mb(),
        "load_average": load_average(),
        "machine": machine(),
    }
    emit(result)


if __name__ == "__main__":
    main()
