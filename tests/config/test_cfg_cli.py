"""`rostersync config validate|template|show` as an admin runs them: no tracebacks, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from support.cli import run_main as run


def test_template_then_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["config", "template"], capsys)
    assert code == 0
    path = tmp_path / "district.yaml"
    path.write_text(out, encoding="utf-8")
    code, out, err = run(["config", "validate", str(path)], capsys)
    assert code == 0, err
    assert "valid" in out
    code, out, _ = run(["config", "show", str(path)], capsys)
    assert code == 0
    assert "hold_threshold" in out


def test_bad_file_lists_problems_and_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "district: x\nsources:\n  - name: sis\n    app: powerschool\n"
        "    delivery: {url: 'http://x', client_id: a, client_secret: plain}\n"
        "    filter_rules: {student: [{exclude: {attribute: nope, op: equals, value: 1}}]}\n",
        encoding="utf-8",
    )
    code, out, err = run(["config", "validate", str(path)], capsys)
    assert code == 2
    assert "Traceback" not in err
    assert "sources[0].delivery.client_secret" in err
    assert "sources[0].filter_rules.student[0].exclude.attribute" in err
    code, out, _ = run(["config", "validate", "--json", str(path)], capsys)
    assert code == 2
    assert len(json.loads(out)["problems"]) == 2


def test_yaml_error_and_missing_file_in_a_real_process(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("district: [\n", encoding="utf-8")
    for target in (path, tmp_path / "absent.yaml"):
        proc = subprocess.run(
            [sys.executable, "-m", "rostersync", "config", "validate", str(target)],
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp_path,
        )
        assert proc.returncode == 2
        assert "Traceback" not in proc.stderr
        assert str(target.name) in proc.stderr


def test_owned_sections_are_reported_with_full_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sections.yaml"
    path.write_text(
        "district: x\nsources:\n  - name: sis\n    app: powerschool\n"
        "    delivery: {url: 'http://x', client_id: a, client_secret: 'env:S'}\n"
        "    advanced:\n"
        "      hold_threshold: {entities: {users: {delete_percent: lots}}}\n"
        "sync_schedule: {every: daily, timezone: America/Chicgo}\n"
        "notifications: {webhooks: [{url: 'http://h', secret: plain}]}\n",
        encoding="utf-8",
    )
    code, _, err = run(["config", "validate", str(path)], capsys)
    assert code == 2
    assert "Traceback" not in err
    assert err.splitlines()[0].endswith("3 problems")
    assert "sources[0].advanced.hold_threshold.entities.users.delete_percent:" in err
    assert "sync_schedule.timezone: 'America/Chicgo' is not an IANA time zone" in err
    assert "notifications.webhooks[0].secret:" in err
