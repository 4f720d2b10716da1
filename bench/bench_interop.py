"""Issue #18: the open catalog in DCAT and through the CKAN API, at 100,000 open resources.

Data: a published catalog made by `catalog_data.generate` (COPY) until its open catalog
(`catalog.public.public_resources_q`) holds at least 100,000 resources; of those open
unconditionally (grade L1), each gets a loaded datastore record and an open dataset with its
three built files (CSV, XLSX, JSON rows in SQL, no file bodies: DCAT and CKAN read only the
rows), so distributions are written as they would be. Dataset UUIDs are given with
`services.identities_backfill`.

- `dcat.catalog.stream_ratio`: time to serialize the DCAT of the first 100,000 open resources
  as Turtle, all pages (100 pages of 1,000: `views.page_chunks` then pyoxigraph through
  `dcat.serialize_stream`), over the time to write the same triples of the same queries as
  N-Triples lines by plain string formatting (`dcat.write_ntriples`). Target <= 5.
- `dcat.catalog.memory_ratio`: peak RSS growth of that Turtle serialization (in a fresh child
  process, bench/rss.py) at 100,000 resources over the same at 10,000. Target <= 1.5.
- `ckan.package_search.onequery_ratio`: `package_search` (rows=100, facet.field organization,
  tags, res_format, sorted by metadata_modified) over the same catalog, over one query that
  reads a page of 100 entries' columns; medians of alternating rounds after one warm-up call
  (facet counts cached per search and catalog generation for a minute, as served). Target <=
  3. The uncached first call is recorded as `cold_ms`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection
from django.test import RequestFactory

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
TARGET = int(os.environ.get("BENCH_INTEROP_RESOURCES", 100_000))
PAGE = 1000
ROUNDS = 3
ROWS = 100
BASE = "https://data.wuhan.gov.cn"

CHILD = r"""
import json, sys, time
sys.path.insert(0, {root!r})
sys.path.insert(0, {bench!r})
import django
django.setup()
from rss import PeakRSS
import bench_interop as b

resources = int(sys.argv[1])
b.serialize_pages(b.site(), resources // b.PAGE, "ttl")  # warm: modules, connection
t0 = time.perf_counter()
with PeakRSS() as rss:
    size = b.serialize_pages(b.site(), resources // b.PAGE, "ttl")
print(json.dumps({{"seconds": time.perf_counter() - t0, "peak_mb": rss.growth,
                  "before_mb": rss.before, "bytes": size}}))
"""


def _ensure_data() -> None:
    import catalog_data

    from authorization.interop.selectors import open_catalog_entries
    from authorization.interop.services import identities_backfill
    from authorization.opendata.models import Licence

    if open_catalog_entries().count() < TARGET:
        from bench_catalog_search import _ensure_organizations

        _ensure_organizations()
        catalog_data.reset()
        catalog_data.generate(int(TARGET * 1.3))
    licence, _ = Licence.objects.get_or_create(
        name="基准开放许可", defaults={"text": "基准。", "url": "https://example.org/licence"}
    )
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO aggregation_datastoretable (resource_id, table_name, schema, columns,
                pending_changes, zone_move_to, row_count, generation, last_loaded_at, created_at,
                updated_at, stored_hashes)
            SELECT e.resource_id, 'bench_open_' || e.resource_id, 'datastore', '[]', '[]', '',
                   100, 1, now(), now(), now(), '{}'
              FROM catalog_catalogentry e JOIN security_grade g ON g.id = e.grade_id
             WHERE e.open_type = 'unconditional' AND g.may_open_unconditionally
            ON CONFLICT DO NOTHING
            """
        )
        cur.execute(
            """
            INSERT INTO authorization_opendataset (resource_id, licence_id, state, rows,
                built_generation, built_batch, built_at, error)
            SELECT d.resource_id, %s, 'ready', 100, 1, '', now(), ''
              FROM aggregation_datastoretable d WHERE d.table_name LIKE 'bench_open_%%'
            ON CONFLICT DO NOTHING
            """,
            [licence.pk],
        )
        cur.execute(
            """
            INSERT INTO authorization_openfile (dataset_id, format, file, size, rows, sheets,
                built_at, downloads)
            SELECT o.id, f.fmt, 'opendata/bench_' || o.resource_id || '.' || f.fmt,
                   4096 + o.resource_id, 100, 1, now(), 0
              FROM authorization_opendataset o
              CROSS JOIN (VALUES ('csv'), ('xlsx'), ('json')) AS f(fmt)
            ON CONFLICT DO NOTHING
            """
        )
        cur.execute("ANALYZE aggregation_datastoretable; ANALYZE authorization_opendataset;")
        cur.execute("ANALYZE authorization_openfile;")
    identities_backfill()


def site():
    from authorization.interop.views import site_for

    return site_for(RequestFactory().get("/", HTTP_HOST="127.0.0.1", secure=True))


def serialize_pages(s, pages: int, fmt: str) -> int:
    """All `pages` pages of the catalog in `fmt`: "ttl" through pyoxigraph, "baseline"
    N-Triples by string formatting. Returns the bytes written (and thrown away)."""
    from authorization.interop import dcat
    from authorization.interop.views import page_chunks

    size = 0
    for page in range(1, pages + 1):
        chunks = page_chunks(s, page=page, page_size=PAGE)
        if fmt == "baseline":
            for chunk in chunks:
                size += len("".join(dcat.write_ntriples(chunk)).encode())
        else:
            for piece in dcat.serialize_stream(chunks, fmt):
                size += len(piece)
    return size


def _child(resources: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(root=str(ROOT), bench=str(BENCH)), str(resources)],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        cwd=ROOT,
        timeout=3600,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _package_search_times() -> tuple[list[float], list[float], float, int]:
    from authorization.interop import ckan
    from authorization.interop.selectors import open_catalog_entries

    request = RequestFactory().get("/api/3/action/package_search", HTTP_HOST="127.0.0.1")
    params = {
        "rows": ROWS,
        "sort": "metadata_modified desc",
        "facet.field": json.dumps(["organization", "tags", "res_format"]),
    }

    t0 = time.perf_counter()
    first = ckan.act_package_search(ckan.Context(request), params)
    cold = time.perf_counter() - t0
    platform, baseline = [], []
    for _ in range(ROUNDS * 3):
        t0 = time.perf_counter()
        result = ckan.act_package_search(ckan.Context(request), params)
        platform.append(time.perf_counter() - t0)
        assert len(result["results"]) == ROWS
        t0 = time.perf_counter()
        rows = list(
            open_catalog_entries()
            .order_by("-published_at", "resource_id")
            .values(
                "resource_id",
                "code",
                "name",
                "summary",
                "provider_name",
                "division_code",
                "update_cycle",
                "published_at",
                "classification__name",
            )[:ROWS]
        )
        baseline.append(time.perf_counter() - t0)
        assert len(rows) == ROWS
    return platform, baseline, cold, first["count"]


def run() -> list[dict]:
    _ensure_data()
    s = site()
    pages = TARGET // PAGE
    serialize_pages(s, 2, "ttl")  # warm
    platform, baseline = [], []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        serialize_pages(s, pages, "baseline")
        baseline.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        ttl_bytes = serialize_pages(s, pages, "ttl")
        platform.append(time.perf_counter() - t0)
    stream_ratio = statistics.median(platform) / statistics.median(baseline)

    small = _child(TARGET // 10)
    large = _child(TARGET)
    memory_ratio = large["peak_mb"] / max(small["peak_mb"], 0.1)

    search, one, cold, count = _package_search_times()
    search_ratio = statistics.median(search) / statistics.median(one)
    return [
        {
            "name": "dcat.catalog.stream_ratio",
            "value": round(stream_ratio, 2),
            "unit": "x",
            "target": "<= 5",
            "baseline": round(statistics.median(baseline), 2),
            "method": (
                f"Turtle of {TARGET:,} open resources, {pages} pages of {PAGE} "
                "(pyoxigraph, chunks of 250 spliced) over N-Triples by string formatting of "
                "the same triples from the same queries; medians of 3 alternating rounds"
            ),
            "turtle_s": round(statistics.median(platform), 2),
            "ntriples_s": round(statistics.median(baseline), 2),
            "turtle_mb": round(ttl_bytes / 1e6, 1),
        },
        {
            "name": "dcat.catalog.memory_ratio",
            "value": round(memory_ratio, 2),
            "unit": "x",
            "target": "<= 1.5",
            "baseline": round(small["peak_mb"], 1),
            "method": (
                f"peak RSS growth (bench/rss.py, fresh child) of the Turtle of all pages at "
                f"{TARGET:,} over {TARGET // 10:,} open resources"
            ),
            "large_mb": round(large["peak_mb"], 1),
            "small_mb": round(small["peak_mb"], 1),
            "large_s": round(large["seconds"], 1),
        },
        {
            "name": "ckan.package_search.onequery_ratio",
            "value": round(search_ratio, 2),
            "unit": "x",
            "target": "<= 3",
            "baseline": round(statistics.median(one) * 1000, 1),
            "method": (
                f"package_search rows={ROWS} with facets organization, tags, res_format over "
                f"{count:,} open resources (facet counts cached per search, as served) over "
                f"one query of a {ROWS}-entry page; medians of 9 alternating rounds"
            ),
            "search_ms": round(statistics.median(search) * 1000, 1),
            "cold_ms": round(cold * 1000, 1),
            "cold_ratio": round(cold / statistics.median(one), 1),
        },
    ]
