"""PowerSchool SIS simulator: a faithful local PowerSchool plugin API over a synthetic district.

Public API (for the demo, the CLI and other areas' tests)::

    from rostersync.simulators.powerschool import (
        generate_district, write_district, load_district, SimulatorConfig, Faults,
        create_simulator_app, run_simulator,
    )

    district = generate_district("tiny", seed=1, day=0)      # Polars tables, deterministic
    district.counts()                 # rows per table, v1_schools, active_students, ...
    district.duplicates               # students entered twice: dcid -> duplicate_of
    district.changes_since(0)         # what each day changed: day, table, action, key, what
    write_district(district, "out/"); load_district("out/")

    config = SimulatorConfig(client_id="rostersync-demo", client_secret="rostersync-demo-secret",
                             enable_control=True, faults=Faults(error_rate=0.1))
    with run_simulator(district, config) as server:   # uvicorn in a thread, port 0 = free port
        server.url                    # http://127.0.0.1:PORT
        server.set_day(3)             # the district lives three days (or POST /_sim/day)
        server.expire_tokens()        # or POST /_sim/faults {"expire_tokens": true}

Endpoints (reference: shared/reference/powerschool-api.md): ``POST /oauth/access_token[/]``;
``/ws/v1/metadata|time|district|district/school|district/student`` (+``/count``),
``/ws/v1/school/{id}`` and ``/ws/v1/school/{id}/student|staff|section|course|term`` (+``/count``),
``/ws/v1/section/{id}/section_enrollment`` (+``/count``), ``/ws/v1/{resource}/{id}``,
``POST /ws/v1/student``; ``/ws/schema/table/{t}`` (list, ``/count``, ``/metadata``, ``/{id}``,
POST/PUT/DELETE on ``U_`` tables); ``POST /ws/schema/query/{name}`` (+``/count``);
``/ws/dataversion/{app}/{version}``; ``/ws/contacts/student/{dcid}``, ``/ws/contacts/contact/{id}``;
``/ws/xte/teacher_category``, ``/ws/xte/section/assignment``, ``/ws/xte/score``; and, only with
``enable_control``, ``GET/POST /_sim/faults`` and ``POST /_sim/day``.

IDs: v1 ``id`` = DCID (students 100001…, sections 200001…, schools 1…); staff ``id`` = Users.DCID;
raw tables join on ``ID`` and ``SchoolID`` = school number (100, 110, …; 999999 = graduated).

Default credentials: client_id ``rostersync-demo``, client_secret ``rostersync-demo-secret``.
Every behaviour the reference marks unconfirmed is a :class:`SimulatorConfig` option with the
reference's default. The default plugin grants every served table column; give another with
``SimulatorConfig(plugin=read_plugin("plugin.zip"))``.
"""

from __future__ import annotations

from .app import Simulator, create_simulator_app, default_plugin
from .config import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Faults, SimulatorConfig
from .district import District, generate_district, load_district, write_district
from .plugin import NamedQuery, Plugin, default_plugin_xml, parse_plugin_xml, read_plugin
from .server import RunningSimulator, run_simulator

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "District",
    "Faults",
    "NamedQuery",
    "Plugin",
    "RunningSimulator",
    "Simulator",
    "SimulatorConfig",
    "create_simulator_app",
    "default_plugin",
    "default_plugin_xml",
    "generate_district",
    "load_district",
    "parse_plugin_xml",
    "read_plugin",
    "run_simulator",
    "write_district",
]
