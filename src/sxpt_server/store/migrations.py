"""Versioned schema migrations of the SQLite store, with sqlite-utils' ``Migrations``.

Each migration has a numbered name and runs once, inside one transaction; sqlite-utils
records the applied ones in its table ``_sqlite_migrations``. Add new migrations below
the last one. Never change a released migration, because databases in the field have
already run it.
"""

from __future__ import annotations

import sqlite3

import sqlite_utils

__all__ = ["APPROVED_FIELDS_SCHEMA", "LIST_INDEXES_SCHEMA", "MIGRATIONS", "RATE_LIMITS_SCHEMA", "RECORDS_SCHEMA", "migrate", "pending_migrations"]


def _create_organisations(db: sqlite_utils.Database) -> None:
    db.table("provinces").create({"code": str, "name": str, "created_at": str}, pk="code", not_null={"name", "created_at"})
    db.table("schools").create(
        {"code": str, "province": str, "name": str, "uscc": str, "city": str, "created_at": str},
        pk="code",
        not_null={"province", "name", "uscc", "city", "created_at"},
        foreign_keys=[("province", "provinces", "code")],
    )
    db.table("schools").create_index(["province"])
    db.table("departments").create(
        {"id": int, "school": str, "name": str, "created_at": str},
        pk="id",
        not_null={"school", "name", "created_at"},
        foreign_keys=[("school", "schools", "code")],
    )
    db.table("departments").create_index(["school", "name"], unique=True)


def _create_accounts(db: sqlite_utils.Database) -> None:
    # Account names are never reused, even after a deletion, so that the audit log's
    # account names stay unambiguous.
    db.table("account_sequences").create({"unit_code": str, "last": int}, pk="unit_code", not_null={"last"})

    # The unit columns hold "" where a part is absent, so that a unique index and
    # equality tests work without NULL handling.
    db.table("accounts").create(
        {
            "id": int,
            "name": str,
            "level": str,
            "province": str,
            "school": str,
            "department": str,
            "phone": str,
            "contact_name": str,
            "password_hash": str,
            "status": str,
            "created_at": str,
            "created_by": str,
            "activated_at": str,
        },
        pk="id",
        not_null={"name", "level", "province", "school", "department", "phone", "status", "created_at"},
        defaults={"province": "", "school": "", "department": ""},
    )
    db.table("accounts").create_index(["name"], unique=True)
    db.table("accounts").create_index(["level", "province", "school", "department"])

    db.table("codes").create(
        {
            "id": int,
            "account_id": int,
            "purpose": str,
            "phone": str,
            "digest": str,
            "issued_at": str,
            "lifetime_seconds": int,
            "tries": int,
            "used": int,
        },
        pk="id",
        not_null={"account_id", "purpose", "phone", "digest", "issued_at", "lifetime_seconds", "tries", "used"},
        defaults={"tries": 0, "used": 0},
        foreign_keys=[("account_id", "accounts", "id")],
    )
    db.table("codes").create_index(["account_id", "purpose"], unique=True)

    db.table("sms_sends").create(
        {"id": int, "phone": str, "purpose": str, "sent_at": str},
        pk="id",
        not_null={"phone", "purpose", "sent_at"},
    )
    db.table("sms_sends").create_index(["phone", "sent_at"])

    db.table("sessions").create(
        {"id_digest": str, "account_id": int, "created_at": str, "last_seen": str, "ip": str, "user_agent": str},
        pk="id_digest",
        not_null={"account_id", "created_at", "last_seen"},
        foreign_keys=[("account_id", "accounts", "id")],
    )
    db.table("sessions").create_index(["account_id"])


def _create_api_keys(db: sqlite_utils.Database) -> None:
    db.table("api_keys").create(
        {
            "id": int,
            "prefix": str,
            "digest": str,
            "label": str,
            "level": str,
            "province": str,
            "school": str,
            "department": str,
            "created_by": str,
            "created_at": str,
            "expires_at": str,
            "revoked_at": str,
            "last_used_at": str,
        },
        pk="id",
        not_null={"prefix", "digest", "label", "level", "province", "school", "department", "created_by",
                  "created_at", "expires_at"},
        defaults={"department": ""},
    )
    db.table("api_keys").create_index(["prefix"], unique=True)
    db.table("api_keys").create_index(["digest"], unique=True)
    db.table("api_keys").create_index(["school"])


def _create_audit_log(db: sqlite_utils.Database) -> None:
    db.table("audit_log").create(
        {
            "id": int,
            "at": str,
            "event": str,
            "actor": str,
            "ip": str,
            "request_id": str,
            "target": str,
            "unit_level": str,
            "unit_province": str,
            "unit_school": str,
            "unit_department": str,
            "detail": str,
        },
        pk="id",
        not_null={"at", "event", "detail"},
        defaults={"detail": "{}"},
    )
    # The log is append-only: the database itself rejects changes and deletions, so a
    # bug or a hand-written statement cannot rewrite history.
    for statement in ("UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER audit_log_no_{statement.lower()} BEFORE {statement} ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
        )


MIGRATIONS = sqlite_utils.Migrations("sxpt_server")


@MIGRATIONS(name="0001_accounts")
def _first_schema(db: sqlite_utils.Database) -> None:
    """Organisations, accounts, codes, sessions, API keys and the audit log."""
    _create_organisations(db)
    _create_accounts(db)
    _create_api_keys(db)
    _create_audit_log(db)


# Records, their versions, uploads (batches), rosters and plans, and unit checks.
# Written as plain SQL so that a PostgreSQL backend can follow the same definitions.
RECORDS_SCHEMA = (
    # One upload of a records, roster or plan file. ``source`` keeps the uploaded bytes
    # for the annotated and errors-only workbooks; ``report`` is the JSON report.
    """CREATE TABLE batches (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        province TEXT NOT NULL,
        school TEXT NOT NULL REFERENCES schools(code),
        department TEXT NOT NULL DEFAULT '',
        actor TEXT NOT NULL,
        filename TEXT,
        media_type TEXT NOT NULL,
        digest TEXT NOT NULL,
        idempotency_key TEXT,
        status TEXT NOT NULL,
        created_at TEXT NOT NULL,
        rows INTEGER NOT NULL,
        valid_rows INTEGER NOT NULL,
        errors INTEGER NOT NULL,
        warnings INTEGER NOT NULL,
        created INTEGER NOT NULL DEFAULT 0,
        updated INTEGER NOT NULL DEFAULT 0,
        unchanged INTEGER NOT NULL DEFAULT 0,
        not_stored INTEGER NOT NULL DEFAULT 0,
        report TEXT NOT NULL,
        source BLOB
    )""",
    "CREATE INDEX batches_school ON batches (school, kind, id)",
    "CREATE INDEX batches_digest ON batches (school, kind, digest)",
    "CREATE UNIQUE INDEX batches_idempotency ON batches (school, idempotency_key) WHERE idempotency_key IS NOT NULL",
    # One internship. The columns after ``natural_key`` copy fields of the current
    # version for filtering; ``approved_version`` is what the province and the ministry read.
    """CREATE TABLE records (
        id INTEGER PRIMARY KEY,
        province TEXT NOT NULL,
        school TEXT NOT NULL REFERENCES schools(code),
        department TEXT NOT NULL,
        natural_key TEXT NOT NULL,
        state TEXT NOT NULL,
        delete_requested INTEGER NOT NULL DEFAULT 0,
        current_version INTEGER NOT NULL,
        approved_version INTEGER,
        review_reason TEXT,
        student_id TEXT NOT NULL,
        course_code TEXT NOT NULL,
        unit_code TEXT NOT NULL,
        unit_name TEXT NOT NULL,
        reporting_month TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        deleted_at TEXT
    )""",
    "CREATE UNIQUE INDEX records_key ON records (school, natural_key) WHERE deleted_at IS NULL",
    "CREATE INDEX records_department ON records (school, department, state)",
    "CREATE INDEX records_state ON records (school, state, id)",
    "CREATE INDEX records_approved ON records (province, school, id) WHERE approved_version IS NOT NULL",
    "CREATE INDEX records_unit ON records (unit_code, unit_name)",
    "CREATE INDEX records_student ON records (school, student_id)",
    # Every content a record has had. ``cells`` is the row keyed by template header;
    # ``issues`` the checks' findings for it. The columns before ``cells`` copy fields of
    # the version, so that provinces filter the approved version, not a pending edit.
    """CREATE TABLE record_versions (
        id INTEGER PRIMARY KEY,
        record_id INTEGER NOT NULL REFERENCES records(id),
        version INTEGER NOT NULL,
        department TEXT NOT NULL,
        reporting_month TEXT NOT NULL,
        student_id TEXT NOT NULL,
        course_code TEXT NOT NULL,
        unit_code TEXT NOT NULL,
        cells TEXT NOT NULL,
        issues TEXT NOT NULL,
        digest TEXT NOT NULL,
        batch_id INTEGER REFERENCES batches(id),
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL
    )""",
    "CREATE UNIQUE INDEX record_versions_number ON record_versions (record_id, version)",
    # Issue codes a reviewer accepted for a record, with the reason.
    """CREATE TABLE record_exceptions (
        record_id INTEGER NOT NULL REFERENCES records(id),
        code TEXT NOT NULL,
        reason TEXT NOT NULL,
        actor TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (record_id, code)
    )""",
    # The school's roster (kind "roster") and training plan (kind "plan"), one row per
    # version; the newest is the current one.
    """CREATE TABLE reference_lists (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        school TEXT NOT NULL REFERENCES schools(code),
        batch_id INTEGER NOT NULL REFERENCES batches(id),
        entries INTEGER NOT NULL,
        data TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
    "CREATE INDEX reference_lists_current ON reference_lists (school, kind, id)",
    # One verification per distinct unit code and name, shared by every record using it.
    """CREATE TABLE unit_checks (
        id INTEGER PRIMARY KEY,
        unit_code TEXT NOT NULL,
        unit_name TEXT NOT NULL,
        state TEXT NOT NULL,
        reason TEXT,
        reason_en TEXT,
        verifier TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        next_attempt_at TEXT NOT NULL,
        claimed_until TEXT,
        created_at TEXT NOT NULL,
        checked_at TEXT
    )""",
    "CREATE UNIQUE INDEX unit_checks_unit ON unit_checks (unit_code, unit_name)",
    "CREATE INDEX unit_checks_queue ON unit_checks (state, next_attempt_at)",
)


@MIGRATIONS(name="0002_records")
def _records_schema(db: sqlite_utils.Database) -> None:
    """Uploads, records with their versions and exceptions, rosters and plans, unit checks."""
    for statement in RECORDS_SCHEMA:
        db.execute(statement)


# Rate-limit counters shared by every server process: one row per limit key and window.
# ``expires_at`` is a Unix time in seconds, as the rate-limit library counts.
RATE_LIMITS_SCHEMA = (
    """CREATE TABLE rate_limits (
        key TEXT PRIMARY KEY,
        count INTEGER NOT NULL,
        expires_at REAL NOT NULL
    )""",
    "CREATE INDEX rate_limits_expiry ON rate_limits (expires_at)",
)


@MIGRATIONS(name="0003_rate_limits")
def _rate_limits_schema(db: sqlite_utils.Database) -> None:
    """Rate-limit counters in the database, so that they hold across server processes."""
    for statement in RATE_LIMITS_SCHEMA:
        db.execute(statement)


# Indexes for the first pages of the record lists that users open most, measured on a
# million records. Each walks one school's (or one province's approved) records in id
# order, so a page reads about its own rows instead of every record in scope.
LIST_INDEXES_SCHEMA = (
    "CREATE INDEX records_school_id ON records (school, id)",
    "CREATE INDEX records_province_approved_id ON records (province, id) WHERE approved_version IS NOT NULL",
    "CREATE INDEX records_school_month ON records (school, reporting_month, id)",
    "CREATE INDEX records_school_unit ON records (school, unit_code, id)",
)


@MIGRATIONS(name="0004_list_indexes")
def _list_indexes(db: sqlite_utils.Database) -> None:
    """Indexes that keep record lists fast on a million records."""
    for statement in LIST_INDEXES_SCHEMA:
        db.execute(statement)


# The approved version's month and department, copied onto the record at approval, so that
# a province's month or department filter uses an index instead of reading each record's
# approved version (120 ms on a million records on PostgreSQL).
APPROVED_FIELDS_SCHEMA = (
    "ALTER TABLE records ADD COLUMN approved_month TEXT",
    "ALTER TABLE records ADD COLUMN approved_department TEXT",
    """UPDATE records SET
        approved_month = (SELECT v.reporting_month FROM record_versions v
                          WHERE v.record_id = records.id AND v.version = records.approved_version),
        approved_department = (SELECT v.department FROM record_versions v
                               WHERE v.record_id = records.id AND v.version = records.approved_version)
    WHERE approved_version IS NOT NULL""",
    "CREATE INDEX records_province_approved_month ON records (province, approved_month, id) "
    "WHERE approved_version IS NOT NULL",
)


@MIGRATIONS(name="0005_approved_fields")
def _approved_fields(db: sqlite_utils.Database) -> None:
    """Copy the approved version's month and department onto the record, indexed for provinces."""
    for statement in APPROVED_FIELDS_SCHEMA:
        db.execute(statement)


def pending_migrations(connection: sqlite3.Connection) -> list[str]:
    """Return the names of the migrations not yet applied to the database, in order."""
    return [migration.name for migration in MIGRATIONS.pending(sqlite_utils.Database(connection))]


def migrate(connection: sqlite3.Connection) -> list[str]:
    """Apply the pending migrations, each in its own transaction, and return their names.

    ``connection`` must use Python's default transaction handling, which sqlite-utils
    requires.
    """
    db = sqlite_utils.Database(connection)
    pending = [migration.name for migration in MIGRATIONS.pending(db)]
    MIGRATIONS.apply(db)
    return pending
