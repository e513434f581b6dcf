"""The statements of the store shared by SQLite and PostgreSQL.

``SQLStore`` contains every statement that both databases understand alike. The
subclasses ``SQLiteStore`` and ``PostgreSQLStore`` open the connection, run
transactions and migrations, and supply the few expressions that differ (reading a
JSON cell, the month of a time in China). Statements are written with ``?``
placeholders; the PostgreSQL store turns them into its own before sending them.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator, Sequence
from typing import Any

from sxpt_core.access import Level, Unit
from sxpt_server.store.base import (
    ACCOUNT_ACTIVE,
    ACCOUNT_PENDING,
    Account,
    ApiKey,
    AuditEntry,
    CodeRow,
    Department,
    Province,
    School,
    SessionRow,
)
from sxpt_server.store.sql_limits import LimitsMixin
from sxpt_server.store.sql_records import RecordsMixin
from sxpt_server.store.sql_stats import StatsMixin
from sxpt_server.store.sql_units import UnitsMixin
from sxpt_server.store.sqlbase import Row

__all__ = ["SQLStore"]

# Audit entries read per statement by iter_audit.
AUDIT_PAGE = 500


def _time(value: datetime.datetime) -> str:
    return value.astimezone(datetime.timezone.utc).isoformat()


def _parse_time(text: str | None) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(text) if text else None


def _required_time(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


def _unit_from(row: Row, prefix: str = "") -> Unit:
    return Unit(
        Level(row[prefix + "level"]),
        row[prefix + "province"] or None,
        row[prefix + "school"] or None,
        row[prefix + "department"] or None,
    )


def _account_from(row: Row) -> Account:
    return Account(
        id=row["id"],
        name=row["name"],
        unit=_unit_from(row),
        phone=row["phone"],
        contact_name=row["contact_name"],
        password_hash=row["password_hash"],
        status=row["status"],
        created_at=_required_time(row["created_at"]),
        created_by=row["created_by"],
        activated_at=_parse_time(row["activated_at"]),
    )


def _api_key_from(row: Row) -> ApiKey:
    return ApiKey(
        id=row["id"],
        prefix=row["prefix"],
        digest=row["digest"],
        label=row["label"],
        unit=_unit_from(row),
        created_by=row["created_by"],
        created_at=_required_time(row["created_at"]),
        expires_at=_required_time(row["expires_at"]),
        revoked_at=_parse_time(row["revoked_at"]),
        last_used_at=_parse_time(row["last_used_at"]),
    )


def _code_from(row: Row) -> CodeRow:
    return CodeRow(
        account_id=row["account_id"],
        purpose=row["purpose"],
        phone=row["phone"],
        digest=row["digest"],
        issued_at=_required_time(row["issued_at"]),
        lifetime=datetime.timedelta(seconds=row["lifetime_seconds"]),
        tries=row["tries"],
        used=bool(row["used"]),
    )


class SQLStore(RecordsMixin, UnitsMixin, StatsMixin, LimitsMixin):
    """The statements of the store; a subclass supplies the connection and the dialect."""

    def close(self) -> None:
        raise NotImplementedError

    def pending_migrations(self) -> list[str]:
        raise NotImplementedError

    def migrate(self) -> list[str]:
        raise NotImplementedError

    # --- organisations ---

    def add_province(self, code: str, name: str, *, now: datetime.datetime) -> Province:
        self._insert_row("INSERT INTO provinces (code, name, created_at) VALUES (?, ?, ?)", (code, name, _time(now)))
        return Province(code=code, name=name, created_at=now)

    def get_province(self, code: str) -> Province | None:
        row = self._execute("SELECT * FROM provinces WHERE code = ?", (code,)).fetchone()
        return Province(row["code"], row["name"], _required_time(row["created_at"])) if row else None

    def list_provinces(self) -> list[Province]:
        rows = self._execute("SELECT * FROM provinces ORDER BY code").fetchall()
        return [Province(row["code"], row["name"], _required_time(row["created_at"])) for row in rows]

    def add_school(self, school: School) -> School:
        self._insert_row(
            "INSERT INTO schools (code, province, name, uscc, city, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (school.code, school.province, school.name, school.uscc, school.city, _time(school.created_at)),
        )
        return school

    def get_school(self, code: str) -> School | None:
        row = self._execute("SELECT * FROM schools WHERE code = ?", (code,)).fetchone()
        return self._school_from(row) if row else None

    def list_schools(self, *, province: str | None = None) -> list[School]:
        if province is None:
            rows = self._execute("SELECT * FROM schools ORDER BY code").fetchall()
        else:
            rows = self._execute("SELECT * FROM schools WHERE province = ? ORDER BY code", (province,)).fetchall()
        return [self._school_from(row) for row in rows]

    @staticmethod
    def _school_from(row: Row) -> School:
        return School(
            code=row["code"],
            province=row["province"],
            name=row["name"],
            uscc=row["uscc"],
            city=row["city"],
            created_at=_required_time(row["created_at"]),
        )

    def add_department(self, school: str, name: str, *, now: datetime.datetime) -> Department:
        self._insert("INSERT INTO departments (school, name, created_at) VALUES (?, ?, ?)", (school, name, _time(now)))
        return Department(school=school, name=name, created_at=now)

    def get_department(self, school: str, name: str) -> Department | None:
        row = self._execute("SELECT * FROM departments WHERE school = ? AND name = ?", (school, name)).fetchone()
        return Department(row["school"], row["name"], _required_time(row["created_at"])) if row else None

    def list_departments(self, school: str) -> list[Department]:
        rows = self._execute("SELECT * FROM departments WHERE school = ? ORDER BY name", (school,)).fetchall()
        return [Department(row["school"], row["name"], _required_time(row["created_at"])) for row in rows]

    # --- accounts ---

    def next_account_sequence(self, unit_code: str) -> int:
        with self.transaction():
            self._execute(
                "INSERT INTO account_sequences (unit_code, last) VALUES (?, 1) "
                "ON CONFLICT (unit_code) DO UPDATE SET last = account_sequences.last + 1",
                (unit_code,),
            )
            row = self._execute("SELECT last FROM account_sequences WHERE unit_code = ?", (unit_code,)).fetchone()
        return int(row["last"])

    def add_account(
        self,
        *,
        name: str,
        unit: Unit,
        phone: str,
        contact_name: str | None,
        created_by: str | None,
        now: datetime.datetime,
    ) -> Account:
        level, province, school, department = unit.key()
        account_id = self._insert(
            "INSERT INTO accounts (name, level, province, school, department, phone, contact_name, status, "
            "created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (name, level, province, school, department, phone, contact_name, ACCOUNT_PENDING, _time(now), created_by),
        )
        account = self.get_account(account_id)
        assert account is not None
        return account

    def get_account(self, account_id: int) -> Account | None:
        row = self._execute("SELECT * FROM accounts WHERE id = ?", (account_id,)).fetchone()
        return _account_from(row) if row else None

    def get_account_by_name(self, name: str) -> Account | None:
        row = self._execute("SELECT * FROM accounts WHERE name = ?", (name,)).fetchone()
        return _account_from(row) if row else None

    def list_accounts(self) -> list[Account]:
        rows = self._execute("SELECT * FROM accounts ORDER BY name").fetchall()
        return [_account_from(row) for row in rows]

    def list_accounts_of(self, unit: Unit) -> list[Account]:
        rows = self._execute(
            "SELECT * FROM accounts WHERE level = ? AND province = ? AND school = ? AND department = ? ORDER BY name",
            unit.key(),
        ).fetchall()
        return [_account_from(row) for row in rows]

    def update_contact_name(self, account_id: int, contact_name: str | None) -> None:
        self._execute("UPDATE accounts SET contact_name = ? WHERE id = ?", (contact_name, account_id))

    def update_phone(self, account_id: int, phone: str) -> None:
        self._execute("UPDATE accounts SET phone = ? WHERE id = ?", (phone, account_id))

    def set_password(self, account_id: int, password_hash: str, *, now: datetime.datetime) -> None:
        self._execute(
            "UPDATE accounts SET password_hash = ?, status = ?, activated_at = COALESCE(activated_at, ?) WHERE id = ?",
            (password_hash, ACCOUNT_ACTIVE, _time(now), account_id),
        )

    def delete_account(self, account_id: int) -> None:
        with self.transaction():
            self._execute("DELETE FROM sessions WHERE account_id = ?", (account_id,))
            self._execute("DELETE FROM codes WHERE account_id = ?", (account_id,))
            self._execute("DELETE FROM accounts WHERE id = ?", (account_id,))

    # --- one-time codes and SMS sends ---

    def put_code(self, code: CodeRow) -> None:
        self._execute(
            "INSERT INTO codes (account_id, purpose, phone, digest, issued_at, lifetime_seconds, tries, used) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, purpose) DO UPDATE SET "
            "phone = excluded.phone, digest = excluded.digest, issued_at = excluded.issued_at, "
            "lifetime_seconds = excluded.lifetime_seconds, tries = excluded.tries, used = excluded.used",
            (
                code.account_id,
                code.purpose,
                code.phone,
                code.digest,
                _time(code.issued_at),
                int(code.lifetime.total_seconds()),
                code.tries,
                int(code.used),
            ),
        )

    def get_code(self, account_id: int, purpose: str) -> CodeRow | None:
        row = self._execute(
            "SELECT * FROM codes WHERE account_id = ? AND purpose = ?", (account_id, purpose)
        ).fetchone()
        return _code_from(row) if row else None

    def update_code(self, code: CodeRow) -> None:
        # The digest in the WHERE clause keeps a late update from touching a newer code.
        self._execute(
            "UPDATE codes SET tries = ?, used = ? WHERE account_id = ? AND purpose = ? AND digest = ?",
            (code.tries, int(code.used), code.account_id, code.purpose, code.digest),
        )

    def delete_codes(self, account_id: int, purposes: Sequence[str] | None = None) -> None:
        if purposes is None:
            self._execute("DELETE FROM codes WHERE account_id = ?", (account_id,))
            return
        for purpose in purposes:
            self._execute("DELETE FROM codes WHERE account_id = ? AND purpose = ?", (account_id, purpose))

    def record_send(self, phone: str, purpose: str, *, now: datetime.datetime) -> int:
        return self._insert(
            "INSERT INTO sms_sends (phone, purpose, sent_at) VALUES (?, ?, ?)", (phone, purpose, _time(now))
        )

    def delete_send(self, send_id: int) -> None:
        self._execute("DELETE FROM sms_sends WHERE id = ?", (send_id,))

    def sends_since(self, phone: str, since: datetime.datetime) -> list[datetime.datetime]:
        rows = self._execute(
            "SELECT sent_at FROM sms_sends WHERE phone = ? AND sent_at >= ? ORDER BY sent_at",
            (phone, _time(since)),
        ).fetchall()
        return [_required_time(row["sent_at"]) for row in rows]

    # --- sessions ---

    def add_session(
        self, id_digest: str, account_id: int, *, now: datetime.datetime, ip: str | None, user_agent: str | None
    ) -> None:
        self._insert_row(
            "INSERT INTO sessions (id_digest, account_id, created_at, last_seen, ip, user_agent) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (id_digest, account_id, _time(now), _time(now), ip, user_agent),
        )

    def get_session(self, id_digest: str) -> SessionRow | None:
        row = self._execute("SELECT * FROM sessions WHERE id_digest = ?", (id_digest,)).fetchone()
        if row is None:
            return None
        return SessionRow(
            id_digest=row["id_digest"],
            account_id=row["account_id"],
            created_at=_required_time(row["created_at"]),
            last_seen=_required_time(row["last_seen"]),
            ip=row["ip"],
        )

    def touch_session(self, id_digest: str, *, now: datetime.datetime) -> None:
        self._execute("UPDATE sessions SET last_seen = ? WHERE id_digest = ?", (_time(now), id_digest))

    def delete_session(self, id_digest: str) -> None:
        self._execute("DELETE FROM sessions WHERE id_digest = ?", (id_digest,))

    def delete_sessions_of(self, account_id: int) -> int:
        return int(self._execute("DELETE FROM sessions WHERE account_id = ?", (account_id,)).rowcount)

    def count_sessions_of(self, account_id: int) -> int:
        row = self._execute("SELECT COUNT(*) AS n FROM sessions WHERE account_id = ?", (account_id,)).fetchone()
        return int(row["n"])

    # --- API keys ---

    def add_api_key(
        self,
        *,
        prefix: str,
        digest: str,
        label: str,
        unit: Unit,
        created_by: str,
        now: datetime.datetime,
        expires_at: datetime.datetime,
    ) -> ApiKey:
        level, province, school, department = unit.key()
        self._insert(
            "INSERT INTO api_keys (prefix, digest, label, level, province, school, department, created_by, "
            "created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (prefix, digest, label, level, province, school, department, created_by, _time(now), _time(expires_at)),
        )
        key = self.get_api_key(prefix)
        assert key is not None
        return key

    def get_api_key(self, prefix: str) -> ApiKey | None:
        row = self._execute("SELECT * FROM api_keys WHERE prefix = ?", (prefix,)).fetchone()
        return _api_key_from(row) if row else None

    def find_api_key(self, digest: str) -> ApiKey | None:
        row = self._execute("SELECT * FROM api_keys WHERE digest = ?", (digest,)).fetchone()
        return _api_key_from(row) if row else None

    def list_api_keys(self, school: str) -> list[ApiKey]:
        rows = self._execute("SELECT * FROM api_keys WHERE school = ? ORDER BY created_at, id", (school,)).fetchall()
        return [_api_key_from(row) for row in rows]

    def revoke_api_key(self, prefix: str, *, now: datetime.datetime) -> None:
        self._execute(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE prefix = ?", (_time(now), prefix)
        )

    def touch_api_key(self, prefix: str, *, now: datetime.datetime) -> None:
        self._execute("UPDATE api_keys SET last_used_at = ? WHERE prefix = ?", (_time(now), prefix))

    # --- audit log ---

    def append_audit(
        self,
        *,
        at: datetime.datetime,
        event: str,
        actor: str | None,
        ip: str | None,
        request_id: str | None,
        target: str | None,
        unit: Unit | None,
        detail: dict[str, Any],
    ) -> int:
        level, province, school, department = unit.key() if unit else (None, None, None, None)
        return self._insert(
            "INSERT INTO audit_log (at, event, actor, ip, request_id, target, unit_level, unit_province, "
            "unit_school, unit_department, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                _time(at),
                event,
                actor,
                ip,
                request_id,
                target,
                level,
                province,
                school,
                department,
                json.dumps(detail, ensure_ascii=False, sort_keys=True),
            ),
        )

    def iter_audit(self, *, before_id: int | None = None) -> Iterator[AuditEntry]:
        # Read in pages, so that a reader who stops early does not fetch the whole log.
        last = before_id if before_id is not None else 2**63 - 1
        while True:
            rows = self._execute(
                "SELECT * FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?", (last, AUDIT_PAGE)
            ).fetchall()
            for row in rows:
                unit = _unit_from(row, "unit_") if row["unit_level"] else None
                yield AuditEntry(
                    id=row["id"],
                    at=_required_time(row["at"]),
                    event=row["event"],
                    actor=row["actor"],
                    ip=row["ip"],
                    request_id=row["request_id"],
                    target=row["target"],
                    unit=unit,
                    detail=json.loads(row["detail"]),
                )
            if len(rows) < AUDIT_PAGE:
                return
            last = rows[-1]["id"]
