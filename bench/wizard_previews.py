"""Benchmark of the wizard's live previews: the sample of 5 mapped records and each filter
rule's keep/drop counts, over the last extraction of a simulated PowerSchool district.

Serves a synthetic district (``--size``, default ``small``: about 2,000 students) with the
simulator, saves a source through the wizard (Delivery Config, an attribute mapping reading a
custom extension-table field), makes the wizard's extraction once (timed), then times
``--runs`` samples and filter counts over the kept extraction (four rules: two templates, two
custom rules). Prints one JSON object: the extraction's seconds, and the median, min and max
seconds of each preview.

    .venv/bin/python bench/wizard_previews.py --size small --runs 5
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import emit, load_average, machine, peak_rss_mb, progress
from rostersync.manage import sis_preview, wizard
from rostersync.manage.sis import source_of
from rostersync.settings import Settings
from rostersync.simulators.powerschool import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    SimulatorConfig,
    generate_district,
    run_simulator,
)
from rostersync.store import Store, make_engine

MAPPING = {"student": {"email": "U_DEF_EXT_STUDENTS.school_email"}}
RULES: dict[str, Any] = {
    "student": [
        {"template": "active_students_only"},
        {"name": "no A", "exclude": {"attribute": "givenName", "op": "starts_with", "value": "A"}},
        {"template": "grade_range", "min_grade": "01", "max_grade": "12"},
    ],
    "teacher": [{"template": "teachers_with_class"}],
}


def timed(runs: int, call: Any) -> dict[str, float]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return {
        "median_s": round(statistics.median(seconds), 4),
        "min_s": round(min(seconds), 4),
        "max_s": round(max(seconds), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="small", help="simulated district size (tiny, small…)")
    parser.add_argument("--runs", type=int, default=5, help="timed previews of each kind")
    args = parser.parse_args()
    load_before = load_average()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "var", database_url=f"sqlite:///{tmp}/s.db")
        store = Store(make_engine(settings.database_url))
        store.upgrade()
        progress(f"generating the {args.size} district")
        district = generate_district(args.size, seed=3)
        with run_simulator(district, SimulatorConfig()) as sim:
            d = store.create_district("Bench")
            values = {
                "name": "sis",
                "app": "powerschool",
                "delivery": {
                    "url": sim.url,
                    "client_id": DEFAULT_CLIENT_ID,
                    "client_secret": DEFAULT_CLIENT_SECRET,
                },
            }
            wizard.save_step(store, settings, "bench", d.id, "delivery", values)
            wizard.save_step(
                store, settings, "bench", d.id, "attribute_mapping", {"attribute_mapping": MAPPING}
            )
            progress("extracting once")
            started = time.perf_counter()
            extraction = sis_preview.last_extraction(store, settings, source_of(store, d.id))
            extract_s = time.perf_counter() - started
            progress(f"timing {args.runs} samples and filter counts")
            sample = timed(
                args.runs,
                lambda: sis_preview.sample_records(store, settings, d.id, mapping=MAPPING),
            )
            counts = timed(
                args.runs,
                lambda: sis_preview.filter_counts(store, settings, d.id, rules=RULES),
            )
        store.dispose()
    emit(
        {
            "benchmark": "wizard_previews",
            "size": args.size,
            "students": district.student_count,
            "records": extraction.counts,
            "extract_s": round(extract_s, 3),
            "sample": sample,
            "filter_counts": counts,
            "peak_rss_mb": peak_rss_mb(),
            "load_average_before": load_before,
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
