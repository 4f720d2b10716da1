"""The tamper-evident ledger (issue 13, decision "ledger"): one mechanism, separate logs.

    leaf_id = append("audit", {"action": "login", ...}, details={...})

`append` is one INSERT statement (leaf, entry and pending row, no index, no tree hashing);
the beat job `kernel.ledger_integrate` (queue `ledger`) gives pending leaves their index,
stores the tree's hash tiles and signs a tree head. Proofs: `inclusion_proof`,
`consistency_proof` (RFC 9162 2.1.3 / 2.1.4) and their verifiers in `merkle`;
`ledger_status(log)` and `ledger_verify` check everything."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import connection


@dataclass(frozen=True)
class Log:
    name: str
    public: bool  # its signed heads are listed on the public page
    prunable: bool  # retention may delete its entries' bytes and details (leaves stay)


LOGS: dict[str, Log] = {
    "audit": Log("audit", public=False, prunable=True),
    "evidence": Log("evidence", public=True, prunable=False),
}


def canonical_json(value: Any) -> bytes:
    """The bytes a JSON entry is hashed as: sorted keys, no spaces, UTF-8 (RFC 8785-like for
    the strings, integers and nested objects the portal writes)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def leaf_input(entry: bytes, details: Any | None) -> bytes:
    """What the leaf hash covers: the entry, and the details when there are any (after a
    newline, as canonical JSON, which never contains a raw newline)."""
    if details is None:
        return entry
    return entry + b"\n" + canonical_json(details)


def leaf_hash_of(entry: bytes, details: Any | None = None) -> bytes:
    return hashlib.sha256(b"\x00" + leaf_input(entry, details)).digest()


_APPEND_SQL = """
WITH leaf AS (
    INSERT INTO kernel_ledgerleaf (log, leaf_hash, created_at) VALUES (%s, %s, now())
    RETURNING id
), entry AS (
    INSERT INTO kernel_ledgerentry (leaf_id, log, entry, details) SELECT id, %s, %s, %s FROM leaf
), pending AS (
    INSERT INTO kernel_ledgerpending (leaf_id, log) SELECT id, %s FROM leaf
)
SELECT id FROM leaf
"""


def append(log: str, entry: bytes | Any, *, details: Any | None = None) -> int:
    """Append `entry` (bytes, or a JSON value hashed as canonical JSON) to `log`, with optional
    JSON `details` (covered by the leaf hash, pruned with the entry by retention). One INSERT
    statement in the caller's transaction; returns the leaf's id (its index comes later)."""
    if log not in LOGS:
        raise ValueError(f"unknown ledger log: {log!r}")
    data = (
        bytes(entry) if isinstance(entry, bytes | bytearray | memoryview) else canonical_json(entry)
    )
    details_json = None if details is None else canonical_json(details).decode("utf-8")
    with connection.cursor() as cur:
        cur.execute(_APPEND_SQL, [log, leaf_hash_of(data, details), log, data, details_json, log])
        return cur.fetchone()[0]
