"""Issue #13: the ledger's integration and proofs at 1,000,000 leaves.

Data: 1,000,000 leaves appended to a log of the benchmark's own (`bench`), each entry an
audit-like canonical JSON record of ~150 bytes, inserted with one INSERT ... SELECT (the
appends themselves are the audit benchmark's business), plus a log `bench_small` of 1,000.

- `ledger.integrate.hash_ratio`: `integrate("bench")` of the 1,000,000 pending leaves (index
  rows, full tiles, a signed head per 50,000-leaf batch, exported to a file), vs a plain loop
  that reads the same entries from PostgreSQL (one SELECT, fetchmany) and hashes each with
  hashlib as a leaf: SHA-256(0x00 || entry). Before each integration round the tree of the log
  is dropped (as the owner) and every leaf made pending again. Median of the rounds. Target
  <= 3.
- `ledger.proof.scale_ratio`: an inclusion proof (stored hashes read, path computed) of a
  random leaf in the tree of 1,000,000 vs in the tree of 1,000; median time per proof over
  2,000 proofs each, alternating. Target <= 2.

BENCH_LEDGER_LEAVES makes the large log smaller (never in the reported figures).
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time

from django.db import connection
from django.test import override_settings

from wuhan_pdr.kernel import ledger
from wuhan_pdr.kernel.ledger.tree import inclusion_proof, integrate, tree_size

N = int(os.environ.get("BENCH_LEDGER_LEAVES", 1_000_000))
SMALL = 1_000
ROUNDS = 3
PROOFS = 2_000

ENTRY_SQL = """
convert_to(
    '{"action":"data.preview","actor":' || (@G@ %% 5000) || ',"at":"2026-12-06T08:00:00.'
    || lpad((@G@ %% 1000000)::text, 6, '0') || '+08:00","ip":"10.20.' || (@G@ %% 250) || '.'
    || (@G@ %% 200) || '","object":"aggregation.datastoretable:' || (@G@ %% 900)
    || '","outcome":"success","rows":' || (@G@ %% 1000) || ',"seq":' || @G@ || '}',
    'UTF8'
)
"""


def _ensure_log(log: str, n: int) -> None:
    ledger.LOGS.setdefault(log, ledger.Log(log, public=False, prunable=False))
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM kernel_ledgerleaf WHERE log = %s", [log])
        have = cur.fetchone()[0]
        if have == n:
            return
        if have:  # another size: start again (the benchmark runs as the tables' owner)
            for table in (
                "kernel_ledgerhead",
                "kernel_ledgertile",
                "kernel_ledgerindex",
                "kernel_ledgerpending",
                "kernel_ledgerentry",
                "kernel_ledgerleaf",
            ):
                cur.execute(f"DELETE FROM {table} WHERE log = %s", [log])  # noqa: S608
        cur.execute(
            f"""
            WITH e AS (SELECT g, {ENTRY_SQL.replace("@G@", "g")} AS entry FROM generate_series(1, %s) g),
            l AS (
                INSERT INTO kernel_ledgerleaf (log, leaf_hash, created_at)
                SELECT %s, sha256('\\x00'::bytea || e.entry), now() FROM e ORDER BY g
                RETURNING id
            )
            SELECT count(*) FROM l
            """,  # noqa: S608 (no user input)
            [n, log],
        )
        cur.execute(
            f"""
            INSERT INTO kernel_ledgerentry (leaf_id, log, entry)
            SELECT l.id, l.log, {ENTRY_SQL.replace("@G@", "rn")}
            FROM (SELECT id, log, row_number() OVER (ORDER BY id) AS rn
                  FROM kernel_ledgerleaf WHERE log = %s) l
            """,  # noqa: S608
            [log],
        )
        cur.execute("ANALYZE kernel_ledgerleaf")
        cur.execute("ANALYZE kernel_ledgerentry")


def _reset(log: str) -> None:
    """Drop the log's tree (the owner may) and make every leaf pending again."""
    with connection.cursor() as cur:
        for table in ("kernel_ledgerhead", "kernel_ledgertile", "kernel_ledgerindex"):
            cur.execute(f"DELETE FROM {table} WHERE log = %s", [log])  # noqa: S608
        cur.execute("DELETE FROM kernel_ledgerpending WHERE log = %s", [log])
        cur.execute(
            "INSERT INTO kernel_ledgerpending (leaf_id, log, leaf_hash)"
            " SELECT id, log, leaf_hash FROM kernel_ledgerleaf WHERE log = %s",
            [log],
        )
        cur.execute("VACUUM ANALYZE kernel_ledgerindex")
        cur.execute("VACUUM ANALYZE kernel_ledgerpending")
        cur.execute("VACUUM ANALYZE kernel_ledgertile")


def _integrate(log: str) -> float:
    _reset(log)
    t = time.perf_counter()
    done = integrate(log)
    seconds = time.perf_counter() - t
    if done != N or tree_size(log) != N:
        raise RuntimeError(f"integrated {done}, tree size {tree_size(log)}, expected {N}")
    return seconds


def _baseline(log: str) -> float:
    import hashlib

    t = time.perf_counter()
    count = 0
    with connection.cursor() as cur:
        cur.execute(
            "SELECT e.entry FROM kernel_ledgerleaf l JOIN kernel_ledgerentry e ON e.leaf_id = l.id"
            " WHERE l.log = %s ORDER BY l.id",
            [log],
        )
        while rows := cur.fetchmany(10_000):
            for (entry,) in rows:
                hashlib.sha256(b"\x00" + bytes(entry)).digest()
                count += 1
    seconds = time.perf_counter() - t
    if count != N:
        raise RuntimeError(f"baseline read {count} leaves")
    return seconds


def _proof_seconds(log: str, size: int, rng: random.Random) -> float:
    index = rng.randrange(size)
    t = time.perf_counter()
    inclusion_proof(log, index, size)
    return time.perf_counter() - t


def run() -> list[dict]:
    connection.ensure_connection()
    with (
        tempfile.TemporaryDirectory(prefix="bench-ledger-heads-") as heads,
        override_settings(LEDGER_HEADS_DIR=heads),
    ):
        _ensure_log("bench", N)
        _ensure_log("bench_small", SMALL)
        if tree_size("bench_small") != SMALL:
            _reset("bench_small")
            integrate("bench_small")
        platform, baseline = [], []
        for _ in range(ROUNDS):
            baseline.append(_baseline("bench"))
            platform.append(_integrate("bench"))
        rng = random.Random(13)
        big, small = [], []
        for _ in range(PROOFS):
            big.append(_proof_seconds("bench", N, rng))
            small.append(_proof_seconds("bench_small", SMALL, rng))
    p, b = statistics.median(platform), statistics.median(baseline)
    pb, ps = statistics.median(big), statistics.median(small)
    return [
        {
            "name": "ledger.integrate.hash_ratio",
            "value": round(p / b, 2),
            "unit": "ratio",
            "target": "<= 3",
            "baseline": round(b, 2),
            "method": (
                f"integrate() of {N:,} pending leaves (index, tiles, a signed head per batch)"
                f" vs one SELECT of the same entries hashed with hashlib; medians of {ROUNDS}"
                " rounds (seconds: platform, baseline)"
            ),
            "platform_s": round(p, 2),
            "baseline_s": round(b, 2),
            "rounds_platform_s": [round(x, 2) for x in platform],
            "rounds_baseline_s": [round(x, 2) for x in baseline],
        },
        {
            "name": "ledger.proof.scale_ratio",
            "value": round(pb / ps, 2),
            "unit": "ratio",
            "target": "<= 2",
            "baseline": round(ps * 1000, 3),
            "method": (
                f"median time of an inclusion proof of a random leaf at {N:,} leaves vs at"
                f" {SMALL:,} (ms at {SMALL:,} as the baseline), {PROOFS:,} proofs each"
            ),
            "proof_ms_large": round(pb * 1000, 3),
            "proof_ms_small": round(ps * 1000, 3),
        },
    ]
