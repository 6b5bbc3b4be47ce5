"""The encrypted secret store: at rest, bound to its district, clear errors, key rotation."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa

from rostersync.admin.secrets import SecretStore, lookup_for
from rostersync.config import resolve_secret
from rostersync.errors import ConfigurationError
from rostersync.settings import load_settings
from rostersync.store import Store
from rostersync.store.schema import stored_secrets

PLAIN = "pl4nted-S3cret-value-7f3a9c"


@pytest.fixture
def secrets(store: Store) -> SecretStore:
    return SecretStore(store, load_settings())


def test_a_secret_round_trips_and_is_not_stored_in_plain_text(
    secrets: SecretStore, store: Store, tmp_path: Path
) -> None:
    d = store.create_district("North")
    assert secrets.put(d.id, "ps", PLAIN, actor="cli:test") is False
    assert secrets.get(d.id, "ps") == PLAIN
    assert secrets.put(d.id, "ps", PLAIN + "2", actor="cli:test") is True
    assert secrets.get(d.id, "ps") == PLAIN + "2"
    assert secrets.get(d.id, "other") is None
    with store.engine.connect() as conn:
        blob = conn.execute(sa.select(stored_secrets.c.ciphertext)).scalar_one()
    assert PLAIN.encode() not in bytes(blob)
    key = tmp_path / "var" / "secrets.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    infos = secrets.list_secrets(d.id)
    assert [i.name for i in infos] == ["ps"]
    assert PLAIN not in repr(infos)
    entry = store.list_audit(d.id)[0]
    assert entry.action == "secret.set"
    assert entry.actor == "cli:test"
    assert PLAIN not in repr(entry)


def test_store_references_resolve_for_the_run_district_only(
    secrets: SecretStore, store: Store
) -> None:
    a, b = store.create_district("A"), store.create_district("B")
    secrets.put(a.id, "ps", PLAIN, actor="t")
    settings = load_settings()
    found = resolve_secret("store:ps", settings, store_lookup=lookup_for(store, settings, a.id))
    assert found.get_secret_value() == PLAIN
    with pytest.raises(ConfigurationError) as info:
        resolve_secret("store:ps", settings, store_lookup=lookup_for(store, settings, b.id))
    assert "no stored secret named 'ps'" in str(info.value)
    assert "rostersync secrets set ps" in (info.value.hint or "")


def test_a_ciphertext_copied_to_another_district_does_not_decrypt(
    secrets: SecretStore, store: Store
) -> None:
    a, b = store.create_district("A"), store.create_district("B")
    secrets.put(a.id, "ps", PLAIN, actor="t")
    secrets.put(b.id, "ps", "b-value", actor="t")
    with store.engine.begin() as conn:
        blob = conn.execute(
            sa.select(stored_secrets.c.ciphertext).where(stored_secrets.c.district_id == a.id)
        ).scalar_one()
        conn.execute(
            stored_secrets.update()
            .where(stored_secrets.c.district_id == b.id)
            .values(ciphertext=blob)
        )
    with pytest.raises(ConfigurationError) as info:
        secrets.get(b.id, "ps")
    assert "cannot be decrypted" in str(info.value)
    assert PLAIN not in str(info.value)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "does not exist"),
        ("not base64 at all!", "does not hold a key"),
        ("c2hvcnQ=", "does not hold a key"),
    ],
)
def test_a_missing_or_wrong_key_file_is_named(
    store: Store, tmp_path: Path, content: str | None, expected: str
) -> None:
    d = store.create_district("A")
    SecretStore(store, load_settings()).put(d.id, "ps", PLAIN, actor="t")
    key = tmp_path / "var" / "secrets.key"
    key.unlink()
    if content is not None:
        key.write_text(content, encoding="ascii")
    with pytest.raises(ConfigurationError) as info:
        SecretStore(store, load_settings()).get(d.id, "ps")
    assert expected in str(info.value)
    assert info.value.setting == "ROSTERSYNC_SECRETS_KEY_FILE"


def test_another_installations_key_is_reported_as_the_wrong_key(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = store.create_district("A")
    SecretStore(store, load_settings()).put(d.id, "ps", PLAIN, actor="t")
    other = tmp_path / "elsewhere" / "k"
    monkeypatch.setenv("ROSTERSYNC_SECRETS_KEY_FILE", str(other))
    SecretStore(store, load_settings()).put(d.id, "other", "x", actor="t")  # creates the file
    assert stat.S_IMODE(other.stat().st_mode) == 0o600
    with pytest.raises(ConfigurationError) as info:
        SecretStore(store, load_settings()).get(d.id, "ps")
    assert "was encrypted under key" in str(info.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_key_file_is_named(store: Store, tmp_path: Path) -> None:
    d = store.create_district("A")
    SecretStore(store, load_settings()).put(d.id, "ps", PLAIN, actor="t")
    key = tmp_path / "var" / "secrets.key"
    key.chmod(0)
    with pytest.raises(ConfigurationError) as info:
        SecretStore(store, load_settings()).get(d.id, "ps")
    assert "Cannot read the secret store's key file" in str(info.value)


@pytest.mark.parametrize("name", ["", "has space", "-leading", "x" * 101, "a/b"])
def test_bad_names_and_values_are_refused(secrets: SecretStore, store: Store, name: str) -> None:
    d = store.create_district("A")
    with pytest.raises(ConfigurationError, match="is not allowed"):
        secrets.put(d.id, name, PLAIN, actor="t")


def test_empty_and_oversize_values_are_refused(secrets: SecretStore, store: Store) -> None:
    d = store.create_district("A")
    with pytest.raises(ConfigurationError, match="empty"):
        secrets.put(d.id, "ps", "", actor="t")
    with pytest.raises(ConfigurationError, match="larger than"):
        secrets.put(d.id, "ps", "x" * (65 * 1024), actor="t")


def test_rotation_re_encrypts_everything_under_a_new_key(
    secrets: SecretStore, store: Store, tmp_path: Path
) -> None:
    a, b = store.create_district("A"), store.create_district("B")
    for i in range(5):
        secrets.put(a.id, f"s{i}", f"{PLAIN}-{i}", actor="t")
    secrets.put(b.id, "ps", PLAIN, actor="t")
    key = tmp_path / "var" / "secrets.key"
    before = key.read_bytes()
    old_ids = {i.key_id for i in secrets.list_secrets()}
    assert secrets.rotate_key(actor="cli:ops") == 6
    assert key.read_bytes() != before
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    new_ids = {i.key_id for i in secrets.list_secrets()}
    assert len(new_ids) == 1
    assert new_ids.isdisjoint(old_ids)
    assert secrets.get(a.id, "s3") == f"{PLAIN}-3"
    assert secrets.get(b.id, "ps") == PLAIN
    assert not (tmp_path / "var" / "secrets.key.next").exists()
    assert store.list_audit()[0].action == "secret.rotate_key"


def test_deleting_a_secret(secrets: SecretStore, store: Store) -> None:
    d = store.create_district("A")
    secrets.put(d.id, "ps", PLAIN, actor="t")
    assert secrets.delete(d.id, "ps", actor="t") is True
    assert secrets.delete(d.id, "ps", actor="t") is False
    assert secrets.get(d.id, "ps") is None


def test_a_key_path_that_is_a_directory_is_named(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = store.create_district("A")
    SecretStore(store, load_settings()).put(d.id, "ps", PLAIN, actor="t")
    monkeypatch.setenv("ROSTERSYNC_SECRETS_KEY_FILE", str(tmp_path))
    with pytest.raises(ConfigurationError) as info:
        SecretStore(store, load_settings()).get(d.id, "ps")
    assert "Cannot read the secret store's key file" in str(info.value)
    assert info.value.setting == "ROSTERSYNC_SECRETS_KEY_FILE"


def test_concurrent_first_sets_of_one_name_all_succeed(secrets: SecretStore, store: Store) -> None:
    """Several admins storing the same new secret at once: one creates it, the others replace
    it; none fails on the (district, name) uniqueness (a read-then-insert race did)."""
    import threading

    d = store.create_district("Racing")
    callers, rounds = 8, 25
    outcomes: dict[str, list[bool | BaseException]] = {}
    lock = threading.Lock()
    barrier = threading.Barrier(callers)

    def put(i: int) -> None:
        for r in range(rounds):
            name = f"ps{r}"
            barrier.wait()
            try:
                result: bool | BaseException = secrets.put(d.id, name, f"{PLAIN}-{i}", actor="t")
            except BaseException as exc:  # collected: the assertion below names it
                result = exc
            with lock:
                outcomes.setdefault(name, []).append(result)

    threads = [threading.Thread(target=put, args=(i,)) for i in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    errors = [o for found in outcomes.values() for o in found if isinstance(o, BaseException)]
    assert not errors, errors[:3]
    for found in outcomes.values():
        assert sorted(found, key=bool) == [False] + [True] * (callers - 1)
    assert secrets.get(d.id, "ps0") in {f"{PLAIN}-{i}" for i in range(callers)}
    assert len(secrets.list_secrets(d.id)) == rounds
