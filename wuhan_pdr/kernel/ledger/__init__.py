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
    INSERT INTO kernel_ledgerpending (log, leaf_id, leaf_hash) SELECT %s, id, %s FROM leaf
)
SELECT id FROM leaf
"""


def append(log: str, entry: bytes | Any, *, details: Any | None = None) -> int:
    """Append `entry` (bytes, or a JSON value hashed as canonical JSON) to `log`, with optional
    JSON `details` (covered by the leaf hash, pruned with the entry by retention). One INSERT
    statement in the caller's transaction; returns the leaf's id (its index comes later)."""
    with connection.cursor() as cur:
        cur.execute(_APPEND_SQL, _append_params(log, entry, details))
        return cur.fetchone()[0]


def _append_params(log: str, entry: bytes | Any, details: Any | None) -> list:
    """The parameters of `_APPEND_SQL` (shared by `append` and `append_ctes`)."""
    if log not in LOGS:
        raise ValueError(f"unknown ledger log: {log!r}")
    data = (
        bytes(entry) if isinstance(entry, bytes | bytearray | memoryview) else canonical_json(entry)
    )
    details_json = None if details is None else canonical_json(details).decode("utf-8")
    leaf_hash = leaf_hash_of(data, details)
    return [log, leaf_hash, log, data, details_json, log, leaf_hash]


def append_ctes(log: str, entry: bytes | Any, *, details: Any | None = None) -> tuple[str, list]:
    """`append` as common table expressions, for a caller that writes a row of its own in the
    same statement (the audit log's searchable row): returns `(ctes, params)` where `ctes`
    goes after `WITH` and its CTE `leaf` yields the new leaf's `id`:

        WITH {ctes}, mine AS (INSERT INTO t (..., leaf_id) SELECT ..., id FROM leaf RETURNING id)
        SELECT id FROM mine

    Still one statement: one round trip, atomic on its own."""
    head = _APPEND_SQL.strip().removeprefix("WITH").rpartition("SELECT id FROM leaf")[0]
    return head.strip(), _append_params(log, entry, details)


def prune(log: str, *, before) -> int:
    """Retention: delete the entries (bytes and details) of `log` appended before `before`
    (a datetime); their leaves, hashes and places in the tree stay. Only for a prunable log
    (the trigger refuses the others to every role but the owner). Returns how many."""
    if log not in LOGS or not LOGS[log].prunable:
        raise ValueError(f"the ledger log {log!r} is permanent")
    with connection.cursor() as cur:
        cur.execute(
            "DELETE FROM kernel_ledgerentry e USING kernel_ledgerleaf l"
            " WHERE e.leaf_id = l.id AND e.log = %s AND l.log = %s AND l.created_at < %s",
            [log, log, before],
        )
        return cur.rowcount
