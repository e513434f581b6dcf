"""The store interface: what the server keeps, as rows and the operations on them.

``SQLiteStore`` and ``PostgreSQLStore`` implement it, with statements shared in
``SQLStore``. Views and services only call these methods, so no SQL appears outside the
store package.

Times are timezone-aware ``datetime`` values in UTC. Units are ``sxpt_core.access.Unit``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

import attrs

from sxpt_core.access import Unit
from sxpt_server.store.limits import RateLimitStore
from sxpt_server.store.records import RecordStore
from sxpt_server.store.stats import StatsStore
from sxpt_server.store.units import UnitQueueStore

__all__ = [
    "Account",
    "ApiKey",
    "AuditEntry",
    "CodeRow",
    "ConflictError",
    "Department",
    "Province",
    "School",
    "SessionRow",
    "Store",
]

ACCOUNT_PENDING = "pending"  # created; the activation code has not been used yet
ACCOUNT_ACTIVE = "active"  # a password is set


class ConflictError(Exception):
    """A row with the same key exists already (a province, school, department, account name)."""


@attrs.frozen
class Province:
    """A province-level education authority, by its GB/T 2260 province code."""

    code: str
    name: str
    created_at: datetime.datetime


@attrs.frozen
class School:
    """A school with its 10-digit school code, its USCC and the city code where it is."""

    code: str
    province: str
    name: str
    uscc: str
    city: str
    created_at: datetime.datetime


@attrs.frozen
class Department:
    """A department (院系) of a school, known by its name within the school."""

    school: str
    name: str
    created_at: datetime.datetime


@attrs.frozen
class Account:
    """A login account bound to one unit and one mobile number."""

    id: int
    name: str
    unit: Unit
    phone: str
    contact_name: str | None
    password_hash: str | None
    status: str
    created_at: datetime.datetime
    created_by: str | None
    activated_at: datetime.datetime | None

    @property
    def active(self) -> bool:
        """Whether the account has set a password with its activation code."""
        return self.status == ACCOUNT_ACTIVE


@attrs.frozen
class CodeRow:
    """The current one-time code of an account for one purpose, as its keyed digest."""

    account_id: int
    purpose: str
    phone: str
    digest: str
    issued_at: datetime.datetime
    lifetime: datetime.timedelta
    tries: int = 0
    used: bool = False


@attrs.frozen
class SessionRow:
    """A login session; ``id_digest`` is the SHA-256 of the id in the cookie."""

    id_digest: str
    account_id: int
    created_at: datetime.datetime
    last_seen: datetime.datetime
    ip: str | None


@attrs.frozen
class ApiKey:
    """An API key, known by its public prefix; only the digest of the key is stored."""

    id: int
    prefix: str
    digest: str
    label: str
    unit: Unit
    created_by: str
    created_at: datetime.datetime
    expires_at: datetime.datetime
    revoked_at: datetime.datetime | None
    last_used_at: datetime.datetime | None


@attrs.frozen
class AuditEntry:
    """One line of the append-only audit log.

    ``actor`` is an account name, ``key:<prefix>`` for an API key, ``cli`` for the
    command line, or None for an anonymous request. ``unit`` is the unit that the entry
    is about, which decides who may read it. ``detail`` never contains codes, passwords,
    keys or full phone numbers.
    """

    id: int
    at: datetime.datetime
    event: str
    actor: str | None
    ip: str | None
    request_id: str | None
    target: str | None
    unit: Unit | None
    detail: dict[str, Any]


class Store(RecordStore, UnitQueueStore, StatsStore, RateLimitStore, Protocol):
    """Everything the server reads from and writes to its database."""

    # --- schema and transactions ---

    def pending_migrations(self) -> list[str]:
        """Return the names of the schema migrations not yet applied; all of them for a new database."""

    def migrate(self) -> list[str]:
        """Apply the pending migrations and return their names."""

    def transaction(self, scope: str | None = None) -> AbstractContextManager[None]:
        """Run the block in one write transaction; nested blocks join the outer one.

        ``scope`` names what the block writes, such as ``school:4133010001``: write
        transactions of one scope, and all without a scope, run one at a time. A nested
        block runs under the outer block's scope, whatever it names. SQLite runs every
        write transaction one at a time whatever its scope.
        """

    def close(self) -> None:
        """Close the connection."""

    # --- organisations ---

    def add_province(self, code: str, name: str, *, now: datetime.datetime) -> Province: ...
    def get_province(self, code: str) -> Province | None: ...
    def list_provinces(self) -> list[Province]: ...
    def add_school(self, school: School) -> School: ...
    def get_school(self, code: str) -> School | None: ...
    def list_schools(self, *, province: str | None = None) -> list[School]: ...
    def add_department(self, school: str, name: str, *, now: datetime.datetime) -> Department: ...
    def get_department(self, school: str, name: str) -> Department | None: ...
    def list_departments(self, school: str) -> list[Department]: ...

    # --- accounts ---

    def next_account_sequence(self, unit_code: str) -> int:
        """Return the next sequence number for account names of a unit code; never reused."""

    def add_account(
        self,
        *,
        name: str,
        unit: Unit,
        phone: str,
        contact_name: str | None,
        created_by: str | None,
        now: datetime.datetime,
    ) -> Account: ...
    def get_account(self, account_id: int) -> Account | None: ...
    def get_account_by_name(self, name: str) -> Account | None: ...
    def list_accounts(self) -> list[Account]: ...
    def list_accounts_of(self, unit: Unit) -> list[Account]: ...
    def update_contact_name(self, account_id: int, contact_name: str | None) -> None: ...
    def update_phone(self, account_id: int, phone: str) -> None: ...
    def set_password(self, account_id: int, password_hash: str, *, now: datetime.datetime) -> None: ...
    def delete_account(self, account_id: int) -> None:
        """Delete the account with its sessions and codes."""

    # --- one-time codes and SMS sends ---

    def put_code(self, code: CodeRow) -> None:
        """Store the code, replacing the account's previous code for the same purpose."""

    def get_code(self, account_id: int, purpose: str) -> CodeRow | None: ...
    def update_code(self, code: CodeRow) -> None:
        """Save the tries and the used flag of the account's code for its purpose."""

    def delete_codes(self, account_id: int, purposes: Sequence[str] | None = None) -> None: ...
    def record_send(self, phone: str, purpose: str, *, now: datetime.datetime) -> int:
        """Record an SMS send to ``phone`` and return its id."""

    def delete_send(self, send_id: int) -> None:
        """Forget a send that the gateway failed to deliver."""

    def sends_since(self, phone: str, since: datetime.datetime) -> list[datetime.datetime]: ...

    # --- sessions ---

    def add_session(
        self, id_digest: str, account_id: int, *, now: datetime.datetime, ip: str | None, user_agent: str | None
    ) -> None: ...
    def get_session(self, id_digest: str) -> SessionRow | None: ...
    def touch_session(self, id_digest: str, *, now: datetime.datetime) -> None: ...
    def delete_session(self, id_digest: str) -> None: ...
    def delete_sessions_of(self, account_id: int) -> int:
        """End every session of the account and return how many there were."""

    def count_sessions_of(self, account_id: int) -> int: ...

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
    ) -> ApiKey: ...
    def get_api_key(self, prefix: str) -> ApiKey | None: ...
    def find_api_key(self, digest: str) -> ApiKey | None: ...
    def list_api_keys(self, school: str) -> list[ApiKey]: ...
    def revoke_api_key(self, prefix: str, *, now: datetime.datetime) -> None: ...
    def touch_api_key(self, prefix: str, *, now: datetime.datetime) -> None: ...

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
    ) -> int: ...
    def iter_audit(self, *, before_id: int | None = None) -> Iterator[AuditEntry]:
        """Yield audit entries, newest first, starting below ``before_id``."""
