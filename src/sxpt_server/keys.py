"""Issuing API keys: a random key, its public prefix and the digest that the database keeps."""

from __future__ import annotations

import datetime
import secrets

from sxpt_core import access, auth
from sxpt_server.store import ApiKey, ConflictError, Store

__all__ = ["PREFIX_ATTEMPTS", "issue_api_key"]

# Prefixes have 40 random bits, so a second draw is already rare.
PREFIX_ATTEMPTS = 3


def issue_api_key(
    store: Store, label: str, scope: access.Unit, created_by: str, moment: datetime.datetime,
    expires_at: datetime.datetime,
) -> tuple[str, ApiKey]:
    """Store a new key and return it with its row; a prefix that is taken already is drawn again.

    The caller checks the permission with ``sxpt_core.access.can_manage_api_keys`` first.
    """
    for _attempt in range(PREFIX_ATTEMPTS):
        key, prefix = auth.new_api_key(secrets.token_bytes(auth.API_KEY_RANDOM_BYTES))
        try:
            stored = store.add_api_key(
                prefix=prefix, digest=auth.api_key_digest(key), label=label, unit=scope, created_by=created_by,
                now=moment, expires_at=expires_at,
            )
        except ConflictError:
            continue
        return key, stored
    raise RuntimeError(f"no free API key prefix after {PREFIX_ATTEMPTS} attempts")
