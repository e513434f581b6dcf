"""Writing the audit log: who did what, when and from where.

Every login, failed login, SMS send (and refused send), account change and API key
change is recorded. The detail of an entry never contains a code, a password, a key or
a full phone number; phone numbers appear masked as 138****0000.
"""

from __future__ import annotations

from typing import Any

from flask import g, has_request_context, request

from sxpt_core.access import Unit
from sxpt_server.clock import now
from sxpt_server.store import Store

__all__ = ["ANONYMOUS", "CLI_ACTOR", "record"]

CLI_ACTOR = "cli"


class _Anonymous:
    def __repr__(self) -> str:
        return "ANONYMOUS"


# Pass as ``actor`` to record an entry without an actor, as for an unknown API key.
ANONYMOUS = _Anonymous()


def _current_actor() -> str | None:
    identity = g.get("identity")
    if identity is not None:
        actor: str = identity.actor
        return actor
    return None if has_request_context() else CLI_ACTOR


def record(
    store: Store,
    event: str,
    *,
    target: str | None = None,
    unit: Unit | None = None,
    actor: str | _Anonymous | None = None,
    **detail: Any,
) -> None:
    """Append one entry to the audit log.

    ``actor`` defaults to the logged-in account or API key of the request, or ``cli``
    outside a request; ``ANONYMOUS`` records no actor. ``unit`` is the unit that the
    entry is about, which decides who may read the entry.
    """
    if isinstance(actor, str):
        recorded_actor: str | None = actor
    elif actor is ANONYMOUS:
        recorded_actor = None
    else:
        recorded_actor = _current_actor()

    store.append_audit(
        at=now(),
        event=event,
        actor=recorded_actor,
        ip=request.remote_addr if has_request_context() else None,
        request_id=g.get("request_id"),
        target=target,
        unit=unit,
        detail=detail,
    )
