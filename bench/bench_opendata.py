"""Issue #14: building the CSV download of an open resource costs little beside PostgreSQL's
own COPY of the same rows.

Data: a published resource open unconditionally (grade L1) with a key, a name, a phone
masked by keeping its first 3 and last 4 digits, an age, an amount and a date; its datastore
table (made by `aggregation.datastore.datastore_ensure`, with its masked read functions)
filled once with 1,000,000 rows in SQL (generate_series).

- platform: `authorization.opendata.build.write_csv`, what the worker's build runs for the
  CSV file: `COPY (SELECT <public columns> FROM <table>_page(...)) TO STDOUT (FORMAT csv)`
  through the table's SECURITY DEFINER page function (masked in SQL, key order), streamed
  into a file after the Chinese header row;
- baseline: `COPY (SELECT <the same columns masked by security.masking.masked_select> FROM
  <table> ORDER BY <key>) TO STDOUT (FORMAT csv)` straight from the table, streamed into a
  file the same way.

Figure `opendata.csv.copy_ratio` = baseline time / platform time (medians of alternating
rounds), i.e. the platform's share of COPY's throughput. Target >= 0.5.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone
from psycopg import sql

N = int(os.environ.get("BENCH_OPENDATA_ROWS", 1_000_000))
ROUNDS = 3
NAME = "开放数据基准资源"


def _resource():
    """The open resource, made once through the catalog's services."""
    from catalog.models import Resource
    from tests.catalog.factories import grade, make_agency, make_city_bureau, make_published

    found = Resource.objects.filter(published_version__name=NAME).first()
    if found is not None:
        return found
    items = [
        {"name": "编号", "english_name": "code", "data_type": "C", "length": 20, "is_key": True},
        {"name": "姓名", "english_name": "full_name", "data_type": "C", "length": 50},
        {
            "name": "电话",
            "english_name": "phone",
            "data_type": "C",
            "length": 20,
            "masking_rule": "保留前3位和后4位",
        },
        {"name": "年龄", "english_name": "age", "data_type": "I"},
        {"name": "金额", "english_name": "amount", "data_type": "N", "length": 12},
        {"name": "登记日期", "english_name": "registered", "data_type": "D"},
    ]
    with transaction.atomic():
        version = make_published(
            make_agency(),
            make_city_bureau().reviewer,
            items=items,
            name=NAME,
            summary="开放数据下载基准。",
            grade=grade("L1"),
            share_type="unconditional",
            share_conditions="",
            open_type="unconditional",
            open_legal_basis="",
        )
    return Resource.objects.get(pk=version.resource_id)


def _table(resource):
    from aggregation.datastore import as_table_owner, datastore_ensure, qualified
    from aggregation.models import DatastoreTable

    table = datastore_ensure(resource=resource)
    if table.row_count == N and table.last_loaded_at:
        return table
    with transaction.atomic(), as_table_owner(), connection.cursor() as cur:
        cur.execute(sql.SQL("TRUNCATE {}").format(qualified(table)))
        cur.execute(
            sql.SQL(
                """
                INSERT INTO {} (code, full_name, phone, age, amount, registered)
                SELECT 'K' || lpad(i::text, 8, '0'),
                       (ARRAY['张','王','李','赵','欧阳'])[1 + i %% 5] || '某' || (i %% 1000),
                       '138' || lpad((i %% 100000000)::text, 8, '0'),
                       18 + i %% 70,
                       round((i %% 100000) / 7.0, 2),
                       date '2000-01-01' + (i %% 9000)
                FROM generate_series(1, %s) AS i
                """
            ).format(qualified(table)),
            [N],
        )
        cur.execute(sql.SQL("ANALYZE {}").format(qualified(table)))
    DatastoreTable.objects.filter(pk=table.pk).update(row_count=N, last_loaded_at=timezone.now())
    table.refresh_from_db()
    return table


def _baseline(path: Path, *, table, columns, rules) -> int:
    from aggregation.datastore import qualified
    from security.masking import masked_select

    names = [c.name for c in columns]
    stored = {c.name: c for c in table_columns(table)}
    select = masked_select([stored[n] for n in names], rules)
    query = sql.SQL("COPY (SELECT {} FROM {} t ORDER BY {}) TO STDOUT WITH (FORMAT csv)").format(
        select, qualified(table), sql.Identifier("code")
    )
    connection.ensure_connection()
    with path.open("wb") as out, transaction.atomic(), connection.connection.cursor() as cur:
        with cur.copy(query) as copy:
            for chunk in copy:
                out.write(chunk)
        return cur.rowcount


def table_columns(table):
    from aggregation.datastore import table_columns as columns

    return columns(table)


def _platform(path: Path, *, table, columns) -> int:
    from authorization.opendata import build

    query = build.rows_query(schema=table.schema, table=table.table_name, columns=columns)
    with transaction.atomic():
        return build.write_csv(path, query=query, columns=columns).rows


def run() -> list[dict]:
    from aggregation.datastore import masking_rules, read_functions_current, read_functions_refresh
    from authorization.opendata.services import public_columns

    resource = _resource()
    table = _table(resource)
    if not read_functions_current(table):
        read_functions_refresh(table)
    columns = public_columns(resource, table)
    rules = {name: rule.mask for name, rule in masking_rules(resource).items()}
    assert "phone" in rules, "the phone column must be masked"
    platform_s, baseline_s = [], []
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp) / "platform.csv", Path(tmp) / "baseline.csv"
        for _ in range(ROUNDS):
            t = time.perf_counter()
            rows = _platform(a, table=table, columns=columns)
            platform_s.append(time.perf_counter() - t)
            t = time.perf_counter()
            base_rows = _baseline(b, table=table, columns=columns, rules=rules)
            baseline_s.append(time.perf_counter() - t)
        assert rows == base_rows == N, (rows, base_rows)
        # The same rows in the same order, masked alike (the platform's file adds a header).
        with a.open("rb") as fa, b.open("rb") as fb:
            fa.readline()
            assert fa.read(1 << 20) == fb.read(1 << 20)
        size = a.stat().st_size
    p, base = statistics.median(platform_s), statistics.median(baseline_s)
    return [
        {
            "name": "opendata.csv.copy_ratio",
            "value": round(base / p, 2),
            "unit": "ratio",
            "target": ">= 0.5",
            "baseline": round(base, 2),
            "method": (
                f"{N:,} rows, 6 columns (a phone masked): median of {ROUNDS} alternating "
                "rounds of the CSV build (COPY through the table's masked definer page "
                "function into a file) vs COPY of the same masked, key-ordered SELECT "
                "straight from the table into a file; value = baseline time / build time"
            ),
            "platform_s": round(p, 2),
            "baseline_s": round(base, 2),
            "rows_per_s": round(N / p),
            "file_mb": round(size / 1e6, 1),
        }
    ]
