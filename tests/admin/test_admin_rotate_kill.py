"""Key rotation killed with SIGKILL mid-way: every secret is under the old key or every one is
under the new key, and all of them still decrypt."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rostersync.admin.secrets import SecretStore
from rostersync.settings import load_settings
from rostersync.store import Store, make_engine

COUNT = 40

#: Rotation in a child process that stops (and announces it) at one point: inside the
#: transaction after some re-encryptions ("encrypt"), or after the commit before the key file
#: is replaced ("replace"). The stop is made at the crypto/OS edge, not inside our code.
CHILD = textwrap.dedent(
    """
    import os, sys, time
    from rostersync.admin import _keys
    from rostersync.admin.secrets import SecretStore
    from rostersync.settings import load_settings
    from rostersync.store import Store, make_engine

    where = sys.argv[1]
    real = _keys.AESGCM
    calls = [0]

    def stop():
        print("stopped", flush=True)
        time.sleep(120)

    class Slow:
        def __init__(self, key):
            self._aead = real(key)

        def encrypt(self, nonce, data, aad):
            calls[0] += 1
            if where == "encrypt" and calls[0] == 15:
                stop()
            return self._aead.encrypt(nonce, data, aad)

        def decrypt(self, nonce, data, aad):
            return self._aead.decrypt(nonce, data, aad)

    _keys.AESGCM = Slow
    real_replace = os.replace

    def replace(src, dst):
        if where == "replace" and str(src).endswith(".next"):
            stop()
        real_replace(src, dst)

    os.replace = replace
    store = Store(make_engine(os.environ["ROSTERSYNC_DATABASE_URL"]))
    SecretStore(store, load_settings()).rotate_key(actor="cli:child")
    """
)


@pytest.mark.parametrize("where", ["encrypt", "replace"])
def test_rotation_killed_midway_leaves_all_old_or_all_new(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    monkeypatch.setenv("ROSTERSYNC_DATABASE_URL", store_url)
    store = Store(make_engine(store_url))
    store.upgrade()
    districts = [store.create_district(f"D{i}") for i in range(2)]
    secrets = SecretStore(store, load_settings())
    for i in range(COUNT):
        secrets.put(districts[i % 2].id, f"s{i}", f"value-{i}", actor="t")
    old_ids = {s.key_id for s in secrets.list_secrets()}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, where],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.strip() == "stopped", child.stderr.read() if child.stderr else ""
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.communicate()

    after = SecretStore(store, load_settings())
    ids = {s.key_id for s in after.list_secrets()}
    assert len(ids) == 1, ids  # never mixed
    if where == "encrypt":
        assert ids == old_ids  # nothing committed
    else:
        assert ids.isdisjoint(old_ids)  # committed; the new key waits in secrets.key.next
    for i in range(COUNT):
        assert after.get(districts[i % 2].id, f"s{i}") == f"value-{i}"
    # The next rotation (or `secrets list`) finishes or discards the interrupted one.
    assert after.rotate_key(actor="t") == COUNT
    assert not (tmp_path / "var" / "secrets.key.next").exists()
    for i in range(COUNT):
        assert after.get(districts[i % 2].id, f"s{i}") == f"value-{i}"
    store.dispose()
