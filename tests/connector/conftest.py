"""Fixtures: PowerSchool simulators served by uvicorn on 127.0.0.1 in a background thread."""

from __future__ import annotations

from support.simulators import tiny_simulator_fixtures

tiny_district, tiny_sim = tiny_simulator_fixtures(1, district="tiny_district", sim="tiny_sim")
