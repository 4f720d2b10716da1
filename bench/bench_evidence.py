"""Issue #16: an evidence deposit's canonical snapshot costs little beside PostgreSQL's own
ordered COPY of the same rows.

Data: the 1,000,000-row open resource of bench_opendata.py (made there once, in SQL).

- platform: `registration.evidence.services._snapshot`, what the deposit job runs for a
  resource's data: the fixed session settings, then
  `COPY (SELECT <every column> FROM <table> ORDER BY <key> COLLATE "C") TO STDOUT (FORMAT csv,
  HEADER)` as the worker role, each chunk digested (SHA-256) and written to a file;
- baseline: the same statement, under the same settings, its chunks read and dropped.

Figure `evidence.snapshot.copy_ratio` = baseline time / platform time (medians of alternating
rounds), i.e. the platform's share of COPY's throughput. Target >= 0.7.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import types
from pathlib import Path

from django.db import connection, transaction

ROUNDS = 3


def _baseline(table) -> int:
    from aggregation.datastore import as_table_owner
    from registration.evidence import canonical

    columns = [
        canonical.SnapshotColumn(c["name"], c.get("type") or "text", bool(c.get("key")))
        for c in table.columns
    ]
    with transaction.atomic(), as_table_owner(), connection.cursor() as cur:
        raw = cur.cursor
        raw.execute(canonical.settings_statement())
        size = 0
        query = canonical.snapshot_copy(
            schema=table.schema, table=table.table_name, columns=columns
        )
        with raw.copy(query) as copy:
            for chunk in copy:
                size += len(chunk)
        return size


def _platform(table, path: Path) -> dict:
    from registration.evidence.services import _snapshot

    return _snapshot(types.SimpleNamespace(resource=table.resource), path)


def run() -> list[dict]:
    from bench_opendata import N, _resource, _table

    resource = _resource()
    table = _table(resource)
    workdir = Path(tempfile.mkdtemp(prefix="bench-evidence-"))
    path = workdir / "snapshot.csv"
    # Warm-up: the table's pages in the cache, both code paths imported.
    _baseline(table)
    data = _platform(table, path)
    base_times, plat_times = [], []
    for _ in range(ROUNDS):
        t = time.perf_counter()
        size = _baseline(table)
        base_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        data = _platform(table, path)
        plat_times.append(time.perf_counter() - t)
    assert data["bytes"] == size and data["rows"] == N, (data, size)
    base, plat = statistics.median(base_times), statistics.median(plat_times)
    path.unlink(missing_ok=True)
    workdir.rmdir()
    return [
        {
            "name": "evidence.snapshot.copy_ratio",
            "value": round(base / plat, 3),
            "unit": "ratio",
            "target": ">= 0.7",
            "baseline": None,
            "method": (
                f"median of {ROUNDS} alternating rounds over {N:,} rows "
                f"({size / 2**20:.0f} MiB): the ordered COPY to nothing "
                f"{base:.2f}s vs the deposit's snapshot written and digested {plat:.2f}s"
            ),
            "copy_s": round(base, 3),
            "snapshot_s": round(plat, 3),
            "sha256": data["sha256"],
        }
    ]
