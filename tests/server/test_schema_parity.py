"""The SQLite and PostgreSQL migrations build the same schema: tables, columns, indexes, triggers.

Both databases are migrated from empty, then read back from their catalogues. A
migration added to one and not the other, or a column spelled differently, fails here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sxpt_server.store import SQLiteStore
from tests.server.backends import postgresql_database

# Tables that record which migrations ran: each database keeps its own.
BOOKKEEPING = {"_sqlite_migrations", "sxpt_migrations"}
TYPES = {"integer": "integer", "bigint": "integer", "text": "text", "blob": "bytes", "bytea": "bytes", "real": "real",
         "double precision": "real"}


def sqlite_schema(path: Path) -> dict[str, Any]:
    store = SQLiteStore(path)
    store.migrate()
    connection = store._connection
    tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
              if row[0] not in BOOKKEEPING]
    columns = {
        table: {row["name"]: (TYPES[row["type"].lower()], bool(row["notnull"]) or bool(row["pk"]),
                              row["dflt_value"] is not None)
                for row in connection.execute(f"PRAGMA table_info({table})")}
        for table in tables
    }
    indexes: dict[str, tuple[str, tuple[str, ...], bool, bool]] = {}
    for table in tables:
        for row in connection.execute(f"PRAGMA index_list({table})"):
            if row["origin"] == "pk":
                continue
            names = tuple(info["name"] for info in connection.execute(f"PRAGMA index_info({row['name']})"))
            indexes[row["name"]] = (table, names, bool(row["unique"]), bool(row["partial"]))
    triggers = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    store.close()
    return {"columns": columns, "indexes": indexes, "triggers": triggers}


def postgresql_schema(url: str) -> dict[str, Any]:
    from sxpt_server.store.postgresql import PostgreSQLStore

    store = PostgreSQLStore.connect(url)
    store.migrate()
    connection = store._connection
    tables = [row[0] for row in connection.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
        if row[0] not in BOOKKEEPING]
    columns: dict[str, dict[str, tuple[str, bool, bool]]] = {table: {} for table in tables}
    for row in connection.execute(
            "SELECT table_name, column_name, data_type, is_nullable, column_default, is_identity "
            "FROM information_schema.columns WHERE table_schema = current_schema()"):
        if row["table_name"] in columns:
            has_default = row["column_default"] is not None and row["is_identity"] != "YES"
            columns[row["table_name"]][row["column_name"]] = (
                TYPES[row["data_type"]], row["is_nullable"] == "NO", has_default)
    indexes: dict[str, tuple[str, tuple[str, ...], bool, bool]] = {}
    for row in connection.execute(
            "SELECT i.relname AS name, t.relname AS table_name, x.indisunique AS is_unique, "
            "x.indisprimary AS is_primary, x.indpred IS NOT NULL AS partial, "
            "array(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, n) "
            "      JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.n) AS names "
            "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            "WHERE t.relnamespace = current_schema()::regnamespace"):
        if row["is_primary"] or row["table_name"] in BOOKKEEPING:
            continue
        indexes[row["name"]] = (row["table_name"], tuple(row["names"]), row["is_unique"], row["partial"])
    triggers = {row[0] for row in connection.execute(
        "SELECT g.tgname FROM pg_trigger g JOIN pg_class t ON t.oid = g.tgrelid "
        "WHERE NOT g.tgisinternal AND t.relnamespace = current_schema()::regnamespace")}
    store.close()
    return {"columns": columns, "indexes": indexes, "triggers": triggers}


def test_same_tables_and_columns(tmp_path: Path) -> None:
    """Every table has the same columns, with the same kind of type, NOT NULL and default, on both."""
    sqlite = sqlite_schema(tmp_path / "parity.sqlite3")
    with postgresql_database() as url:
        postgresql = postgresql_schema(url)
    assert len(sqlite["columns"]) >= 14
    assert postgresql["columns"] == sqlite["columns"]


def test_same_indexes(tmp_path: Path) -> None:
    """Every index has the same name, table, columns, uniqueness and partial condition on both."""
    sqlite = sqlite_schema(tmp_path / "parity.sqlite3")
    with postgresql_database() as url:
        postgresql = postgresql_schema(url)
    assert len(sqlite["indexes"]) >= 20
    assert postgresql["indexes"] == sqlite["indexes"]


def test_audit_triggers_on_both(tmp_path: Path) -> None:
    """Both databases refuse updates and deletions of the audit log by trigger."""
    sqlite = sqlite_schema(tmp_path / "parity.sqlite3")
    with postgresql_database() as url:
        postgresql = postgresql_schema(url)
    assert sqlite["triggers"] == {"audit_log_no_update", "audit_log_no_delete"}
    # PostgreSQL also refuses TRUNCATE, which SQLite does not have.
    assert postgresql["triggers"] == sqlite["triggers"] | {"audit_log_no_truncate"}
