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

from wuhan_pdr.kernel.prepared import execute_prepared


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


# The append as common table expressions (`append_ctes`): its CTE `leaf` yields the new leaf's
# id. Parameters: $1 log, $2 leaf hash, $3 entry, $4 details.
APPEND_CTES = """leaf AS (
    INSERT INTO kernel_ledgerleaf (log, leaf_hash, created_at) VALUES ($1, $2, now())
    RETURNING id
), entry AS (
    INSERT INTO kernel_ledgerentry (leaf_id, log, entry, details) SELECT id, $1, $3, $4 FROM leaf
), pending AS (
    INSERT INTO kernel_ledgerpending (log, leaf_id, leaf_hash) SELECT $1, id, $2 FROM leaf
)"""
APPEND_TYPES = ("text", "bytea", "bytea", "jsonb")
_APPEND_SQL = f"WITH {APPEND_CTES} SELECT id FROM leaf"  # noqa: S608 (constants)


def append(log: str, entry: bytes | Any, *, details: Any | None = None) -> int:
    """Append `entry` (bytes, or a JSON value hashed as canonical JSON) to `log`, with optional
    JSON `details` (covered by the leaf hash, pruned with the entry by retention). One INSERT
    statement in the caller's transaction (prepared once per session); returns the leaf's id
    (its index comes later)."""
    with connection.cursor() as cur:
        execute_prepared(
            cur,
            "kernel_ledger_append",
            _APPEND_SQL,
            APPEND_TYPES,
            append_params(log, entry, details),
        )
        return cur.fetchone()[0]


def append_params(log: str, entry: bytes | Any, details: Any | None = None) -> list:
    """The parameters $1 .. $4 of `APPEND_CTES` (the log, the leaf hash, the entry's bytes and
    the details as JSON text)."""
    if log not in LOGS:
        raise ValueError(f"unknown ledger log: {log!r}")
    data = (
        bytes(entry) if isinstance(entry, bytes | bytearray | memoryview) else canonical_json(entry)
    )
    if details is None:
        return [log, hashlib.sha256(b"\x00" + data).digest(), data, None]
    details_json = canonical_json(details)
    leaf_hash = hashlib.sha256(b"\x00" + data + b"\n" + details_json).digest()
    return [log, leaf_hash, data, details_json.decode("utf-8")]


def append_ctes() -> tuple[str, tuple[str, ...]]:
    """`append` as common table expressions, for a caller that writes a row of its own in the
    same statement (the audit log's searchable row): returns `(ctes, types)`; `ctes` goes
    after `WITH`, its parameters are $1 .. $4 (`append_params`, of the types `types`) and its
    CTE `leaf` yields the new leaf's `id`:

        WITH {ctes}, mine AS (INSERT INTO t (..., leaf_id) SELECT $5, ..., id FROM leaf
                              RETURNING id)
        SELECT id FROM mine

    Still one statement: one round trip, atomic on its own."""
    return APPEND_CTES, APPEND_TYPES


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
