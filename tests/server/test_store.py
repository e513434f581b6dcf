"""The SQLite store: migrations, the append-only audit log and account name sequences."""

from __future__ import annotations

import datetime
import sqlite3
from pathlib import Path

import pytest
from flask import Flask

from sxpt_core.access import Unit
from sxpt_server.store import ConflictError, SQLiteStore

NOW = datetime.datetime(2025, 10, 15, 1, 0, tzinfo=datetime.timezone.utc)


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    store = SQLiteStore(tmp_path / "test.sqlite3")
    store.migrate()
    return store


def database_path(app: Flask) -> Path:
    return Path(app.instance_path) / "sxpt.sqlite3"


def test_migrations_run_once(tmp_path: Path) -> None:
    """A second migrate applies nothing and leaves nothing pending."""
    store = SQLiteStore(tmp_path / "test.sqlite3")
    first = store.migrate()
    second = store.migrate()
    assert first == ["0001_accounts", "0002_records"]
    assert second == []
    assert store.pending_migrations() == []


def test_new_database_pending(tmp_path: Path) -> None:
    """A database that was never migrated has every migration pending."""
    assert SQLiteStore(tmp_path / "empty.sqlite3").pending_migrations() == ["0001_accounts", "0002_records"]


def test_audit_rejects_update(store: SQLiteStore) -> None:
    """The database refuses to change an audit entry."""
    store.append_audit(at=NOW, event="login", actor="sxpt000000001", ip=None, request_id=None, target=None,
                       unit=None, detail={})
    connection = sqlite3.connect(store.path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        connection.execute("UPDATE audit_log SET event = 'nothing'")
    connection.close()


def test_audit_rejects_delete(store: SQLiteStore) -> None:
    """The database refuses to delete an audit entry."""
    store.append_audit(at=NOW, event="login", actor="sxpt000000001", ip=None, request_id=None, target=None,
                       unit=None, detail={})
    connection = sqlite3.connect(store.path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        connection.execute("DELETE FROM audit_log")
    connection.close()


def test_audit_of_running_app_is_append_only(app: Flask) -> None:
    """The database of the app itself has the triggers."""
    connection = sqlite3.connect(database_path(app))
    triggers = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    connection.close()
    assert triggers == {"audit_log_no_update", "audit_log_no_delete"}


def test_audit_entries_newest_first(store: SQLiteStore) -> None:
    """iter_audit yields the newest entry first and pages with before_id."""
    for event in ("first", "second", "third"):
        store.append_audit(at=NOW, event=event, actor=None, ip=None, request_id=None, target=None, unit=None,
                           detail={})
    events = [entry.event for entry in store.iter_audit()]
    newest = next(store.iter_audit())
    older = [entry.event for entry in store.iter_audit(before_id=newest.id)]
    assert events == ["third", "second", "first"]
    assert older == ["second", "first"]


def test_sequence_never_reused(store: SQLiteStore) -> None:
    """Sequences count up per unit code."""
    numbers = [store.next_account_sequence("4133010001") for _ in range(3)]
    other = store.next_account_sequence("330000")
    assert numbers == [1, 2, 3]
    assert other == 1


def test_transaction_rolls_back(store: SQLiteStore) -> None:
    """An exception inside a transaction undoes its writes."""
    with pytest.raises(RuntimeError), store.transaction():
        store.add_province("330000", "浙江省", now=NOW)
        raise RuntimeError("stop")
    assert store.get_province("330000") is None


def test_duplicate_province_conflict(store: SQLiteStore) -> None:
    """A second province with the same code raises ConflictError."""
    store.add_province("330000", "浙江省", now=NOW)
    with pytest.raises(ConflictError):
        store.add_province("330000", "浙江省", now=NOW)


def test_delete_account_removes_sessions(store: SQLiteStore) -> None:
    """Deleting an account deletes its sessions."""
    account = store.add_account(name="sxpt000000001", unit=Unit.ministry(), phone="13800138000", contact_name=None,
                                created_by="cli", now=NOW)
    store.add_session("digest", account.id, now=NOW, ip=None, user_agent=None)
    store.delete_account(account.id)
    assert store.get_session("digest") is None


def test_instance_files_private(tmp_path: Path) -> None:
    """The instance folder sxpt creates is 0700, and the database, its WAL files and the outbox are 0600."""
    import stat

    from sxpt_server import create_app
    from tests.server.support import Clock, new_phone

    folder = tmp_path / "new-instance"
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(folder), "NOW": Clock(), "RATELIMIT_ENABLED": False})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    assert runner.invoke(args=["create-account", "--level", "ministry", "--phone", new_phone()]).exit_code == 0
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for name in ("sxpt.sqlite3", "outbox.jsonl"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name
    # The WAL files exist only while a connection is open.
    for name in ("sxpt.sqlite3-wal", "sxpt.sqlite3-shm"):
        if (folder / name).exists():
            assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name
