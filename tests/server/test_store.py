"""The store on both databases: migrations, the append-only audit log and account name sequences."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from logging.handlers import BufferingHandler
from pathlib import Path

import pytest
from flask import Flask

from sxpt_core.access import Unit
from sxpt_server import create_app
from sxpt_server.store import ConflictError, DatabaseUnavailable, SQLiteStore, Store, open_store, safe_url
from tests.server.backends import database_setting, postgresql_database

BOTH_BACKENDS = True
NOW = datetime.datetime(2025, 10, 15, 1, 0, tzinfo=datetime.timezone.utc)


@contextmanager
def open_test_store(backend: str, folder: Path) -> Iterator[Store]:
    """Open a store on a new, empty database of ``backend``."""
    with database_setting(backend, str(folder / "test.sqlite3")) as setting:
        if backend == "sqlite":
            store: Store = SQLiteStore(setting)
        else:
            from sxpt_server.store.postgresql import PostgreSQLStore

            store = PostgreSQLStore.connect(setting)
        try:
            yield store
        finally:
            store.close()


@pytest.fixture
def empty_store(backend: str, tmp_path: Path) -> Iterator[Store]:
    with open_test_store(backend, tmp_path) as store:
        yield store


@pytest.fixture
def store(empty_store: Store) -> Store:
    empty_store.migrate()
    return empty_store


def execute(store: Store, sql: str) -> None:
    """Run one statement on the store's own connection, outside the store's methods."""
    store._execute(sql)  # type: ignore[attr-defined]


def database_path(app: Flask) -> Path:
    return Path(app.instance_path) / "sxpt.sqlite3"


def test_migrations_run_once(empty_store: Store) -> None:
    """A second migrate applies nothing and leaves nothing pending."""
    first = empty_store.migrate()
    second = empty_store.migrate()
    assert first == ["0001_accounts", "0002_records", "0003_rate_limits", "0004_list_indexes", "0005_approved_fields"]
    assert second == []
    assert empty_store.pending_migrations() == []


def test_new_database_pending(empty_store: Store) -> None:
    """A database that was never migrated has every migration pending."""
    assert empty_store.pending_migrations() == ["0001_accounts", "0002_records", "0003_rate_limits", "0004_list_indexes", "0005_approved_fields"]


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET event = 'nothing'", "DELETE FROM audit_log"])
def test_audit_rejects_change(store: Store, statement: str) -> None:
    """The database refuses to change or delete an audit entry."""
    store.append_audit(at=NOW, event="login", actor="sxpt000000001", ip=None, request_id=None, target=None,
                       unit=None, detail={})
    with pytest.raises(Exception, match="append-only"):
        execute(store, statement)
    assert [entry.event for entry in store.iter_audit()] == ["login"]


def test_audit_of_running_app_is_append_only(app: Flask) -> None:
    """The database of the app itself refuses changes to the audit log."""
    store = open_store(app)
    try:
        store.append_audit(at=NOW, event="login", actor=None, ip=None, request_id=None, target=None, unit=None,
                           detail={})
        with pytest.raises(Exception, match="append-only"):
            execute(store, "UPDATE audit_log SET event = 'nothing'")
    finally:
        store.close()


def test_audit_entries_newest_first(store: Store) -> None:
    """iter_audit yields the newest entry first and pages with before_id."""
    for event in ("first", "second", "third"):
        store.append_audit(at=NOW, event=event, actor=None, ip=None, request_id=None, target=None, unit=None,
                           detail={})
    events = [entry.event for entry in store.iter_audit()]
    newest = next(store.iter_audit())
    older = [entry.event for entry in store.iter_audit(before_id=newest.id)]
    assert events == ["third", "second", "first"]
    assert older == ["second", "first"]


def test_sequence_never_reused(store: Store) -> None:
    """Sequences count up per unit code."""
    numbers = [store.next_account_sequence("4133010001") for _ in range(3)]
    other = store.next_account_sequence("330000")
    assert numbers == [1, 2, 3]
    assert other == 1


def test_transaction_rolls_back(store: Store) -> None:
    """An exception inside a transaction undoes its writes."""
    with pytest.raises(RuntimeError), store.transaction():
        store.add_province("330000", "浙江省", now=NOW)
        raise RuntimeError("stop")
    assert store.get_province("330000") is None


def test_duplicate_province_conflict(store: Store) -> None:
    """A second province with the same code raises ConflictError."""
    store.add_province("330000", "浙江省", now=NOW)
    with pytest.raises(ConflictError):
        store.add_province("330000", "浙江省", now=NOW)


def test_delete_account_removes_sessions(store: Store) -> None:
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


def test_unreachable_database_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PostgreSQL URL where nothing listens stops the server at start-up in one sentence, without the password."""
    import socket

    from click.testing import CliRunner

    from sxpt_server import store as store_package
    from sxpt_server.cli import main

    monkeypatch.setattr(store_package, "CONNECT_TIMEOUT", 1.0)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://sxpt:Secret-9@127.0.0.1:{port}/sxpt"
    with pytest.raises(DatabaseUnavailable) as caught:
        create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "DATABASE": url})
    result = CliRunner().invoke(main, ["init-db"], env={"SXPT_INSTANCE_PATH": str(tmp_path), "SXPT_DATABASE": url})
    assert f"无法连接数据库 postgresql://sxpt:***@127.0.0.1:{port}/sxpt" in caught.value.message
    assert "createdb" in caught.value.message_en
    assert result.exit_code == 1
    assert "无法连接数据库 postgresql://sxpt:***@" in result.output
    assert "Secret-9" not in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("password", ["Ab@cd", "Ab/cd#12", "x@y@z"])
def test_unencoded_password_refused(tmp_path: Path, password: str) -> None:
    """A password with an unencoded @ / # is refused before any connection, and stays hidden."""
    url = f"postgresql://sxpt:{password}@127.0.0.1:5432/sxpt"
    with pytest.raises(DatabaseUnavailable) as caught:
        create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "DATABASE": url})
    assert "%40" in caught.value.message
    assert password not in caught.value.message
    assert password not in caught.value.message_en


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://sxpt:Secret-9@db:5432/sxpt", "postgresql://sxpt:***@db:5432/sxpt"),
    ("postgresql://sxpt:Ab@cd/ef#12@db:5432/sxpt", "postgresql://sxpt:***@db:5432/sxpt"),
    ("postgresql://sxpt@db:5432/sxpt", "postgresql://sxpt@db:5432/sxpt"),
    ("postgresql://db/sxpt", "postgresql://db/sxpt"),
])
def test_safe_url_hides_password(url: str, shown: str) -> None:
    assert safe_url(url) == shown


def test_migrate_reads_database_setting(tmp_path: Path) -> None:
    """Without DATABASE_URL the migration copies into the DATABASE setting, so no password is typed."""
    from click.testing import CliRunner

    from sxpt_server.cli import main

    source = tmp_path / "old.sqlite3"
    old = SQLiteStore(source)
    old.migrate()
    old.add_province("330000", "浙江省", now=NOW)
    old.close()
    with postgresql_database() as url:
        result = CliRunner().invoke(main, ["migrate-to-postgresql", str(source)],
                                    env={"SXPT_INSTANCE_PATH": str(tmp_path / "instance"), "SXPT_DATABASE": url})
        from sxpt_server.store.postgresql import PostgreSQLStore

        target = PostgreSQLStore.connect(url)
        provinces = target.list_provinces()
        target.close()
    assert result.exit_code == 0, result.output
    assert [province.code for province in provinces] == ["330000"]


def test_gunicorn_log_receives_request_lines(tmp_path: Path) -> None:
    """Under gunicorn, sxpt's request lines go to gunicorn's log handlers."""
    gunicorn = logging.getLogger("gunicorn.error")
    ours = logging.getLogger("sxpt_server")
    handler = BufferingHandler(100)
    gunicorn.addHandler(handler)
    level = ours.level
    try:
        app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path)})
        app.test_cli_runner().invoke(args=["init-db"])
        app.test_client().get("/api/v1/health")
        lines = [record.getMessage() for record in handler.buffer]
    finally:
        gunicorn.removeHandler(handler)
        ours.removeHandler(handler)
        ours.setLevel(level)
    assert any(line.startswith("GET /api/v1/health 200") for line in lines), lines
