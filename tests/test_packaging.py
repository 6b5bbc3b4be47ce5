"""The built wheel is a working product: it carries the license and the migrations, installs in a
fresh virtual environment and runs ``rostersync demo --once`` from there (not from this tree).

Offline by design: the wheel is built by pip from this checkout, and its dependencies come from
this test run's own environment (a ``.pth`` file in the fresh venv points at its site-packages);
only the built wheel itself is installed, with ``--no-deps``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_wheel_installs_in_a_fresh_venv_and_runs_the_demo(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    run(sys.executable, "-m", "pip", "wheel", ROOT, "--no-deps", "-q", "-w", dist, cwd=tmp_path)
    (wheel,) = dist.glob("rostersync-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        license_text = next(
            zf.read(n).decode() for n in names if n.endswith("dist-info/licenses/LICENSE")
        )
        metadata = next(zf.read(n).decode() for n in names if n.endswith("dist-info/METADATA"))
    assert "Apache License" in license_text
    assert "Version 2.0" in license_text
    assert "License-Expression: Apache-2.0" in metadata
    assert (ROOT / "LICENSE").read_text(encoding="utf-8") == license_text
    assert any(n.endswith("migrations/versions/0015_management_plane.py") for n in names)
    # /api/v1/docs serves these from the package (no CDN), with the vendored code's license
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"):
        assert f"rostersync/web/static/vendor/swagger-ui/{asset}" in names, asset

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / "python"
    fresh_site = Path(
        run(
            python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path
        ).strip()
    )
    # The dependencies of this test run, after the fresh venv's own packages on sys.path; a
    # plain path line, so this checkout's editable-install hook is not loaded there.
    (fresh_site / "zz_test_dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8"
    )
    run(python, "-m", "pip", "install", "--no-deps", "--no-index", "-q", wheel, cwd=tmp_path)

    home = tmp_path / "home"
    home.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ROSTERSYNC_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    env["ROSTERSYNC_DATA_DIR"] = str(home / "var")
    where = run(python, "-c", "import rostersync; print(rostersync.__file__)", cwd=home, env=env)
    assert Path(where.strip()).is_relative_to(venv), where
    output = run(bin_dir / "rostersync", "demo", "--once", cwd=home, env=env)
    assert "rostersync versions list" in output  # the demo published a roster version
    assert (home / "var" / "rostersync.db").stat().st_mode & 0o077 == 0
