"""The architecture as an executable contract: the import layers and what the pure packages load.

``import rostersync.pipeline`` and ``import rostersync.changes`` must not bring in a database
driver or an HTTP client (checked in a fresh interpreter, where nothing was imported before), and
``lint-imports`` keeps every contract declared in ``pyproject.toml``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("sqlalchemy", "httpx")


def loaded_by(module: str) -> list[str]:
    """The heavy top-level packages that importing ``module`` loads, in a fresh interpreter."""
    code = (
        "import json, sys\n"
        f"import {module}\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    loaded = set(json.loads(proc.stdout.strip().splitlines()[-1]))
    return sorted(loaded & set(HEAVY))


@pytest.mark.parametrize(
    "module", ["rostersync.pipeline", "rostersync.changes", "rostersync.config"]
)
def test_pure_packages_load_no_database_nor_http_client(module: str) -> None:
    assert loaded_by(module) == []


def test_the_check_sees_a_heavy_import() -> None:
    # the same check on a module that does load SQLAlchemy: the test above can fail
    assert loaded_by("rostersync.store") == ["sqlalchemy"]


def test_import_contracts_are_kept() -> None:
    exe = Path(sys.executable).with_name("lint-imports")
    command = str(exe) if exe.exists() else shutil.which("lint-imports")
    assert command, "lint-imports is not installed: pip install -e '.[dev]'"
    proc = subprocess.run(
        [command, "--no-cache"], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def _private_imports_across_packages() -> list[str]:
    """Imports of another package's private (``_name``) module anywhere under src/rostersync."""
    import ast

    src = ROOT / "src" / "rostersync"
    found = []
    for path in sorted(src.rglob("*.py")):
        own = path.relative_to(src).parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] != "rostersync" or len(parts) < 3 or parts[1] == own:
                    continue
                if any(p.startswith("_") and not p.startswith("__") for p in parts[2:]):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    return found


def test_no_package_imports_another_packages_private_module() -> None:
    assert _private_imports_across_packages() == []
