"""Issue #6: loading through the file channel, beside PostgreSQL's own COPY.

Data: a 1,000,000-row, 12-column CSV (tests/aggregation/bigfile.py: text, integers, a date,
an amount, a timestamp, a boolean, a float; ~150 MB), generated once into a temp directory.

- `ingest.file.copy_ratio`: the platform's full load (a file batch run by `batch_run` in a
  fresh Python process, as the worker would: parse, COPY into a shadow table, add the primary
  key, swap, commit) beside a raw `COPY ... (FORMAT csv)` of the same file into a new table of
  the same shape with its primary key, in the same run. Figure: COPY's time / the
  platform's time (share of COPY's throughput); rounds alternate, medians. Target >= 0.5.
- `ingest.incremental.full_ratio`: an incremental batch of 10,000 changed rows merged into
  the 1,000,000-row table, beside the full load of that table. Target <= 0.1.
- `ingest.file.peak_mb_1m` / `_100k` and `ingest.file.memory_ratio`: the worker process's peak
  resident memory growth (sampled every 5 ms) during a full load of 1,000,000 and of 100,000 rows ("about the
  same": the file is streamed, never held). The child imports what a running worker has
  loaded before it measures, so module imports do not count as the load's memory.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from psycopg import sql

from aggregation import services
from aggregation.datastore import create_table_sql, published_columns, qualified
from aggregation.models import Batch, Channel
from catalog.models import ResourceVersion

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.aggregation.bigfile import ITEMS, write_csv  # noqa: E402

N = 1_000_000
SMALL = 100_000
CHANGED = 10_000
ROUNDS = 3
FULL_NAME = "归集基准测试(全量)"
INCR_NAME = "归集基准测试(增量)"

CHILD = r"""
import json, sys, time
sys.path.insert(0, {root!r})
sys.path.insert(0, {bench!r})
import django
django.setup()
from rss import PeakRSS

from aggregation.services import batch_run
# What a running worker has loaded already, so that the growth measured is the load's own.
import aggregation.channels, aggregation.quality.services, openpyxl  # noqa: E401,F401
from aggregation.datastore import datastore_ensure
from aggregation.models import Batch
datastore_ensure(resource=Batch.objects.get(pk={batch_id!r}).channel.resource)
# The load's own peak: resident memory sampled every 5 ms while it runs (bench/rss.py).
t = time.perf_counter()
with PeakRSS() as rss:
    batch = batch_run(batch_id={batch_id!r})
seconds = time.perf_counter() - t
print(json.dumps({{"seconds": seconds, "peak_growth_mb": rss.growth, "status": batch.status,
                  "error": batch.error, "inserted": batch.rows_inserted,
                  "updated": batch.rows_updated}}))
"""


def _channel(name: str, update_mode: str) -> Channel:
    """A published resource with the 12 items and an active file channel (made once)."""
    version = (
        ResourceVersion.objects.filter(name=name, state=ResourceVersion.State.PUBLISHED)
        .select_related("resource")
        .first()
    )
    if version is not None:
        channel = Channel.objects.filter(resource=version.resource).first()
        if channel is not None:
            return channel
    from tests.accounts.factories import OrganizationFactory, UserFactory
    from tests.aggregation.factories import make_channel
    from wuhan_pdr.accounts.models import Organization, User

    # Factory sequences restart in each process: start past what the bench database holds.
    OrganizationFactory.reset_sequence(Organization.objects.count() + 20_000)
    UserFactory.reset_sequence(User.objects.count() + 20_000)
    with transaction.atomic():
        setup = make_channel(items=ITEMS, update_mode=update_mode, name=name)
        version = setup.resource.published_version
        version.name = name
        version.save(update_fields=["name"])
    return setup.channel


def _batch(channel: Channel, path: Path, mode: str | None = None) -> Batch:
    user = channel.created_by
    with path.open("rb") as f, transaction.atomic():
        return services.batch_upload(
            channel=channel,
            uploaded=SimpleUploadedFile(path.name, f.read()),
            acting_user=user,
            mode=mode,
        )


def _run_in_worker_process(batch: Batch, **settings_env: str) -> dict:
    env = dict(os.environ, **settings_env)
    code = CHILD.format(root=str(ROOT), bench=str(ROOT / "bench"), batch_id=str(batch.pk))
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["status"] != Batch.Status.SUCCEEDED:
        raise RuntimeError(f"batch failed: {result['error']}")
    return result


def _raw_copy(path: Path, columns) -> float:
    name = "bench_raw_copy"
    with connection.cursor() as cur:
        cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(qualified(name)))
        cur.execute(create_table_sql(name, columns))
    query = sql.SQL("COPY {} FROM STDIN (FORMAT csv, HEADER true)").format(qualified(name))
    t = time.perf_counter()
    with (
        transaction.atomic(),
        connection.cursor() as cur,
        path.open("rb") as f,
        cur.cursor.copy(query) as copy,
    ):
        while block := f.read(1 << 20):
            copy.write(block)
    seconds = time.perf_counter() - t
    with connection.cursor() as cur:
        cur.execute(sql.SQL("DROP TABLE {}").format(qualified(name)))
    return seconds


def _cleanup_files(channel: Channel) -> None:
    for batch in Batch.objects.filter(channel=channel).exclude(source_file=""):
        batch.source_file.delete(save=False)
    Batch.objects.filter(channel=channel).delete()


def run() -> list[dict]:
    full = _channel(FULL_NAME, "full")
    incr = _channel(INCR_NAME, "incremental")
    columns = published_columns(full.resource)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        tmp = Path(tmp)
        big = write_csv(tmp / "big.csv", N)
        small = write_csv(tmp / "small.csv", SMALL)
        changed = write_csv(tmp / "changed.csv", CHANGED, version=1)
        size_mb = big.stat().st_size / 1e6

        raw_times, platform_times, peaks_1m = [], [], []
        for _round in range(ROUNDS):
            raw_times.append(_raw_copy(big, columns))
            result = _run_in_worker_process(_batch(full, big))
            assert result["inserted"] == N, result
            platform_times.append(result["seconds"])
            peaks_1m.append(result["peak_growth_mb"])
        # 100,000 rows replacing 1,000,000 would be held for the provider's confirmation
        # (AGGREGATION_SHRINK_HOLD_RATIO); the memory baseline is the load itself, so the
        # child process runs with the hold off.
        peaks_100k = [
            _run_in_worker_process(_batch(full, small), AGGREGATION_SHRINK_HOLD_RATIO="1")[
                "peak_growth_mb"
            ]
            for _ in range(2)
        ]

        full_times, incr_times = [], []
        for _round in range(ROUNDS):
            full_result = _run_in_worker_process(_batch(incr, big, mode="full"))
            full_times.append(full_result["seconds"])
            incr_result = _run_in_worker_process(_batch(incr, changed))
            assert incr_result["updated"] == CHANGED, incr_result
            incr_times.append(incr_result["seconds"])
        _cleanup_files(full)
        _cleanup_files(incr)

    raw = statistics.median(raw_times)
    platform = statistics.median(platform_times)
    full_s = statistics.median(full_times)
    incr_s = statistics.median(incr_times)
    peak_1m = statistics.median(peaks_1m)
    peak_100k = statistics.median(peaks_100k)
    shape = f"{N:,} rows x 12 columns, {size_mb:.0f} MB CSV"
    return [
        {
            "name": "ingest.file.copy_ratio",
            "value": round(raw / platform, 3),
            "unit": "ratio",
            "target": ">= 0.5",
            "baseline": {"raw_copy_s": round(raw, 2), "platform_s": round(platform, 2)},
            "method": f"{shape}; platform full load (batch_run in a fresh process: parse, "
            "COPY into a shadow table, primary key, swap, commit) vs raw COPY (FORMAT csv) "
            f"into a new table of the same shape with its key; medians of {ROUNDS} "
            "alternating rounds; figure = COPY time / platform time",
        },
        {
            "name": "ingest.incremental.full_ratio",
            "value": round(incr_s / full_s, 3),
            "unit": "ratio",
            "target": "<= 0.1",
            "baseline": {"full_load_s": round(full_s, 2), "incremental_s": round(incr_s, 2)},
            "method": f"{CHANGED:,} changed rows merged by key into the {N:,}-row table "
            "(incremental batch_run) vs a full load of that table; medians of "
            f"{ROUNDS} rounds",
        },
        {
            "name": "ingest.file.peak_mb_1m",
            "value": round(peak_1m, 1),
            "unit": "MB",
            "target": None,
            "baseline": round(peak_100k, 1),
            "method": "peak RSS growth (RSS sampled every 5 ms minus RSS before) of the worker process "
            f"during a full load of {N:,} rows; baseline: the same at {SMALL:,} rows",
        },
        {
            "name": "ingest.file.memory_ratio",
            "value": round(peak_1m / max(peak_100k, 1.0), 2),
            "unit": "ratio",
            "target": "<= 1.5",
            "baseline": {"peak_mb_100k": round(peak_100k, 1), "peak_mb_1m": round(peak_1m, 1)},
            "method": "peak memory growth at 1,000,000 rows / at 100,000 rows (streamed: "
            "about the same)",
        },
    ]
