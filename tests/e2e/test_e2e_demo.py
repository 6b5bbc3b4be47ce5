"""`rostersync demo --once`: the whole journey in one command, exit 0, summary printed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from rostersync.config import load_config


def test_demo_once_prints_the_summary_and_writes_a_reusable_config(tmp_path: Path) -> None:
    data_dir = Path(os.environ["ROSTERSYNC_DATA_DIR"])
    proc = subprocess.run(
        [sys.executable, "-m", "rostersync", "demo", "--once", "--size", "small", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for label in (
        "schools",
        "sessions",
        "courses",
        "classes",
        "enrollments",
        "students",
        "contacts",
        "teachers",
        "admins",
    ):
        assert label in out
    assert "roster version 1" in out
    assert "published roster version 1" in out
    assert "Where to look next" in out
    # The pipeline report's highlights, and its files where the output says they are.
    assert "Pipeline report" in out
    # The demo's rules meet the small district's messy data: every kind of outcome is real.
    for label in ("skipped", "reported", "filtered out", "merged"):
        found = re.search(rf"^\s*{label}[^:]*: (\d+)", out, re.MULTILINE)
        assert found, f"no '{label}' line in the demo output"
        assert int(found.group(1)) > 0, f"the demo report shows no {label} records"
    reports = data_dir / "reports" / "run-1"
    assert (reports / "summary.csv").is_file()
    assert (reports / "report.json").is_file()
    assert str(reports) in out
    for hint in ("rostersync runs show 1", "rostersync serve", "rostersync export oneroster-csv"):
        assert hint in out
    assert "Traceback" not in proc.stderr
    config = load_config(data_dir / "demo.yaml")
    assert config.sources[0].app == "powerschool"
    assert config.sources[0].delivery.client_secret == "file:demo-client-secret"
    assert (data_dir / "demo-client-secret").stat().st_mode & 0o077 == 0
