"""The schema of the PostgreSQL store: the SQLite migrations, spelled for PostgreSQL.

The migrations have the same names and create the same tables, columns and indexes
as those of ``migrations`` (a test compares the two schemas). The first was written
for SQLite with sqlite-utils, so its tables are written out here as SQL; the later
ones are SQL already and are translated by ``translate``. Applied migrations are listed
in ``sxpt_migrations``. Never change a released migration; add new ones to both.
"""

from __future__ import annotations

import re

from sxpt_server.store.migrations import APPROVED_FIELDS_SCHEMA, LIST_INDEXES_SCHEMA, RATE_LIMITS_SCHEMA, RECORDS_SCHEMA

__all__ = ["MIGRATIONS", "translate"]

# Types are written as in SQLite; translate() gives their PostgreSQL spelling. Index
# names are those sqlite-utils gives.
_ACCOUNTS_SCHEMA = (
    """CREATE TABLE provinces (
        code TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE schools (
        code TEXT PRIMARY KEY,
        province TEXT NOT NULL REFERENCES provinces(code),
        name TEXT NOT NULL,
        uscc TEXT NOT NULL,
        city TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
    "CREATE INDEX idx_schools_province ON schools (province)",
    """CREATE TABLE departments (
        id INTEGER PRIMARY KEY,
        school TEXT NOT NULL REFERENCES schools(code),
        name TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
    "CREATE UNIQUE INDEX idx_departments_school_name ON departments (school, name)",
    """CREATE TABLE account_sequences (
        unit_code TEXT PRIMARY KEY,
        last INTEGER NOT NULL
    )""",
    """CREATE TABLE accounts (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        level TEXT NOT NULL,
        province TEXT NOT NULL DEFAULT '',
        school TEXT NOT NULL DEFAULT '',
        department TEXT NOT NULL DEFAULT '',
        phone TEXT NOT NULL,
        contact_name TEXT,
        password_hash TEXT,
        status TEXT NOT NULL,
        created_at TEXT NOT NULL,
        created_by TEXT,
        activated_at TEXT
    )""",
    "CREATE UNIQUE INDEX idx_accounts_name ON accounts (name)",
    "CREATE INDEX idx_accounts_level_province_school_department ON accounts (level, province, school, department)",
    """CREATE TABLE codes (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id),
        purpose TEXT NOT NULL,
        phone TEXT NOT NULL,
        digest TEXT NOT NULL,
        issued_at TEXT NOT NULL,
        lifetime_seconds INTEGER NOT NULL,
        tries INTEGER NOT NULL DEFAULT 0,
        used INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE UNIQUE INDEX idx_codes_account_id_purpose ON codes (account_id, purpose)",
    """CREATE TABLE sms_sends (
        id INTEGER PRIMARY KEY,
        phone TEXT NOT NULL,
        purpose TEXT NOT NULL,
        sent_at TEXT NOT NULL
    )""",
    "CREATE INDEX idx_sms_sends_phone_sent_at ON sms_sends (phone, sent_at)",
    """CREATE TABLE sessions (
        id_digest TEXT PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id),
        created_at TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        ip TEXT,
        user_agent TEXT
    )""",
    "CREATE INDEX idx_sessions_account_id ON sessions (account_id)",
    """CREATE TABLE api_keys (
        id INTEGER PRIMARY KEY,
        prefix TEXT NOT NULL,
        digest TEXT NOT NULL,
        label TEXT NOT NULL,
        level TEXT NOT NULL,
        province TEXT NOT NULL,
        school TEXT NOT NULL,
        department TEXT NOT NULL DEFAULT '',
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        revoked_at TEXT,
        last_used_at TEXT
    )""",
    "CREATE UNIQUE INDEX idx_api_keys_prefix ON api_keys (prefix)",
    "CREATE UNIQUE INDEX idx_api_keys_digest ON api_keys (digest)",
    "CREATE INDEX idx_api_keys_school ON api_keys (school)",
    """CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        event TEXT NOT NULL,
        actor TEXT,
        ip TEXT,
        request_id TEXT,
        target TEXT,
        unit_level TEXT,
        unit_province TEXT,
        unit_school TEXT,
        unit_department TEXT,
        detail TEXT NOT NULL DEFAULT '{}'
    )""",
    # The log is append-only, as in SQLite: the database itself rejects changes and
    # deletions (TRUNCATE included), so a bug or a hand-written statement cannot rewrite history.
    """CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_log is append-only';
    END
    $$""",
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log EXECUTE FUNCTION audit_log_append_only()",
)

_TYPES = (
    # Row ids: 64-bit, numbered by the database unless given (the migration command gives them).
    (re.compile(r"\bINTEGER PRIMARY KEY\b"), "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
    (re.compile(r"\bINTEGER\b"), "BIGINT"),
    # Byte order, as SQLite compares text: ISO times compare in time order, names sort by code point.
    (re.compile(r"\bTEXT\b"), 'TEXT COLLATE "C"'),
    (re.compile(r"\bBLOB\b"), "BYTEA"),
    (re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),
)


def translate(statement: str) -> str:
    """Return a CREATE or ALTER TABLE statement written for SQLite with the column types PostgreSQL uses."""
    if not statement.startswith(("CREATE TABLE", "ALTER TABLE")):
        return statement
    for pattern, replacement in _TYPES:
        statement = pattern.sub(replacement, statement)
    return statement


# (name, statements) in the order they apply; the names are those of the SQLite migrations.
MIGRATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("0001_accounts", tuple(translate(statement) for statement in _ACCOUNTS_SCHEMA)),
    ("0002_records", tuple(translate(statement) for statement in RECORDS_SCHEMA)),
    ("0003_rate_limits", tuple(translate(statement) for statement in RATE_LIMITS_SCHEMA)),
    ("0004_list_indexes", LIST_INDEXES_SCHEMA),
    ("0005_approved_fields", tuple(translate(statement) for statement in APPROVED_FIELDS_SCHEMA)),
)
