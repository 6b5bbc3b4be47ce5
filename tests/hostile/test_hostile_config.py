"""Hostile configuration files: each gets a clear error naming the file, never a traceback.

The corpus goes through the real command line (``config validate`` and ``config show``); the
alias bomb also goes through ``sync run`` in a separate process whose address space is capped, so a
regression fails the test instead of exhausting the machine, and the store must stay untouched.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from rostersync.settings import load_settings
from rostersync.store import open_store
from support.cli import run_main

VALID = """\
district: Hostile Test District
sources:
  - name: sis
    app: powerschool
    delivery:
      url: http://127.0.0.1:9
      client_id: rostersync-demo
      client_secret: env:PS_CLIENT_SECRET
"""

# Nine levels of nine: 600 bytes that expand to 387 million strings.
BOMB = VALID + "    connector:\n      lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
BOMB += "".join(f"      lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 9))


@dataclass(frozen=True)
class Case:
    id: str
    body: bytes
    expect: str  # a fragment of the message


CORPUS = [
    Case("alias bomb", BOMB.encode(), "aliases expand to more than"),
    Case(
        "recursive alias",
        VALID.encode() + b"    connector: &loop {again: *loop}\n",
        "refers to the value that contains it",
    ),
    Case(
        "alias nesting",
        VALID.encode()
        + b"    connector:\n      a: &a "
        + b"[" * 40
        + b"x"
        + b"]" * 40
        + b"\n      b: &b "
        + b"[" * 30
        + b"*a"
        + b"]" * 30
        + b"\n",
        "levels deep",
    ),
    Case("deep flow nesting", b"district: " + b"[" * 50_000 + b"]" * 50_000, "nested more than 64"),
    Case(
        "deep block nesting",
        b"district: x\nsources:\n"
        + b"".join(b"  " * i + b"k:\n" for i in range(1, 200))
        + b"  " * 200
        + b"v: 1\n",
        "nested more than 64",
    ),
    Case("latin-1", "district: Montréal\n".encode("latin-1"), "byte offset 15"),
    Case("utf-16", VALID.encode("utf-16"), "UTF-16"),
    Case("huge", VALID.encode() + b"#" * (1024 * 1024) + b"\n", "at most 1,048,576 bytes"),
    Case("duplicate top key", VALID.encode() + b"district: Other\n", "duplicate key 'district'"),
    Case(
        "duplicate nested key",
        VALID.encode() + b"    app: powerschool\n",
        "duplicate key 'app' (first given at line 4",
    ),
    Case(
        "tab indentation",
        b"district: x\nsources:\n\t- name: sis\n",
        "line 3, column 1: YAML syntax",
    ),
    Case("list document", b"- district: x\n", "must be a mapping"),
    Case("scalar document", b"just some words\n", "must be a mapping"),
    Case("empty", b"", "empty or null"),
    Case("null document", b"~\n", "empty or null"),
    Case("comments only", b"# nothing here\n", "empty or null"),
    Case(
        "wrong type: district",
        VALID.replace("district: Hostile Test District", "district: [1, 2]").encode(),
        "district",
    ),
    Case("wrong type: sources", b"district: x\nsources: {sis: powerschool}\n", "sources"),
    Case("two documents", VALID.encode() + b"---\n" + VALID.encode(), "single document"),
    Case("NUL character", b"district: a\x00b\n", "U+0000"),
    Case("giant integer", b"district: " + b"9" * 5000 + b"\n", "unreadable value"),
    Case(
        "python tag",
        b"district: !!python/object/apply:os.system [echo]\n",
        "could not determine a constructor",
    ),
    Case("unhashable key", b"? [a, b]\n: c\n", "unhashable"),
    Case(
        "unknown app",
        VALID.replace("app: powerschool", "app: powerscool").encode(),
        "unknown app 'powerscool'; did you mean 'powerschool'? installed apps: ",
    ),
]


CORPUS += [
    Case(
        "unknown connector option",
        (VALID + "    connector: {page_sise: 10}\n").encode(),
        "sources[0].connector.page_sise: unknown setting",
    ),
    Case(
        "connector option of the wrong type",
        (VALID + "    connector: {page_size: lots}\n").encode(),
        "sources[0].connector.page_size",
    ),
]


def in_capped_process(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The CLI in a fresh interpreter that may use at most 1 GiB of address space."""

    def cap() -> None:
        limit = 1024 * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return subprocess.run(
        [sys.executable, "-m", "rostersync", *argv],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        timeout=120,
        preexec_fn=cap,  # a resource limit only, set before exec
    )


def test_the_bomb_is_small() -> None:
    assert len(BOMB) - len(VALID) < 600


@pytest.mark.parametrize("case", [c for c in CORPUS if c.id != "alias bomb"], ids=lambda c: c.id)
@pytest.mark.parametrize("command", ["validate", "show"])
def test_hostile_file_gets_a_clear_error(
    case: Case, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "district.yaml"
    path.write_bytes(case.body)
    code, out, err = run_main(["config", command, str(path)], capsys)
    assert code == 2, (out, err)
    assert "Traceback" not in err
    assert "unexpected" not in err
    assert str(path) in err
    assert case.expect in err, err
    assert len(err) < 2000  # one clear message, not a dump of the file


@pytest.mark.parametrize("command", ["validate", "show"])
def test_alias_bomb_fails_fast_in_a_capped_process(command: str, tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB, encoding="utf-8")
    proc = in_capped_process(["config", command, str(path)], tmp_path)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert str(path) in proc.stderr
    assert "aliases expand to more than 100,000 values" in proc.stderr


@pytest.mark.parametrize(
    "body",
    [
        BOMB,
        VALID.replace("app: powerschool", "app: banner"),
        VALID + "    connector: {page_sise: 10}\n",
    ],
    ids=["bomb", "unknown app", "unknown connector option"],
)
def test_sync_run_with_a_bad_file_writes_nothing(body: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(body, encoding="utf-8")
    proc = in_capped_process(["sync", "run", "--config", str(path)], tmp_path)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert str(path) in proc.stderr
    store = open_store(load_settings(), upgrade=True)
    try:
        assert store.list_districts() == []
    finally:
        store.dispose()


@pytest.mark.parametrize(
    "body",
    [
        "\ufeff" + VALID,
        VALID + "    connector: &opts {page_size: 100}\n"
        "  - name: sis2\n    app: powerschool\n    delivery: &d {url: 'http://x', client_id: a,"
        " client_secret: 'env:X'}\n    connector: *opts\n",
        "base: &b {url: 'http://x', client_id: a, client_secret: 'env:X'}\n",
    ],
    ids=["utf-8 BOM", "anchors shared by two sources", "unknown top-level key still reported"],
)
def test_ordinary_yaml_features_still_work(
    body: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "district.yaml"
    path.write_text(body if not body.startswith("base") else VALID + body, encoding="utf-8")
    code, out, err = run_main(["config", "validate", str(path)], capsys)
    if body.startswith("base"):
        assert code == 2
        assert "base: unknown setting" in err
    else:
        assert code == 0, err
        assert "valid" in out


def test_merge_keys_may_be_overridden_beside_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = VALID.replace(
        "    delivery:\n      url: http://127.0.0.1:9\n",
        "    delivery:\n      <<: {url: 'http://a', client_id: b}\n      url: http://127.0.0.1:9\n",
    ).replace("      client_id: rostersync-demo\n", "")
    path = tmp_path / "district.yaml"
    path.write_text(body, encoding="utf-8")
    code, out, err = run_main(["config", "show", str(path)], capsys)
    assert code == 0, err
    assert "url: http://127.0.0.1:9" in out
    assert "client_id: b" in out
