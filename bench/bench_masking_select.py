"""Issue #13 item 5: masking in SQL costs little beside the read itself.

Data: a 1,000,000-row table `bench_masking.people` made in SQL once (generate_series): a key,
a name, an ID number, a mobile number, a birth date, an address and an amount.

- platform: the rows streamed (a server-side cursor, 10,000 rows a fetch) through the masked
  path: `security.masking.masked_select` with five masked columns: the ID number by keyed
  hash (HMAC-SHA256, pgcrypto), the name keeping its first character, the mobile number its
  first 3 and last 4, the birth date to its month, the address to its district;
- baseline: the same SELECT of the same columns, unmasked, streamed the same way.

Figure `masking.select.ratio` = masked time / unmasked time (medians of alternating rounds).
Target <= 2.
"""

from __future__ import annotations

import os
import statistics
import time

from django.db import connection, transaction
from psycopg import sql

from security.masking import DISTRICT, HMAC, KEEP_ENDS, MONTH, Mask, masked_select

N = int(os.environ.get("BENCH_MASKING_ROWS", 1_000_000))
ROUNDS = 3
FETCH = 10_000
SCHEMA = "bench_masking"
TABLE = "people"


class Col:
    def __init__(self, name: str, type_: str):
        self.name, self.type = name, type_


COLUMNS = [
    Col("id", "bigint"),
    Col("full_name", "text"),
    Col("id_number", "varchar(18)"),
    Col("mobile", "varchar(11)"),
    Col("born", "date"),
    Col("address", "text"),
    Col("amount", "numeric(18,2)"),
]
RULES = {
    "id_number": Mask(HMAC),
    "full_name": Mask(KEEP_ENDS, first=1, last=0),
    "mobile": Mask(KEEP_ENDS, first=3, last=4),
    "born": Mask(MONTH),
    "address": Mask(DISTRICT),
}


def _ensure_table() -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", [f"{SCHEMA}.{TABLE}"])
        if cur.fetchone()[0]:
            cur.execute(
                sql.SQL("SELECT count(*) FROM {}.{}").format(
                    sql.Identifier(SCHEMA), sql.Identifier(TABLE)
                )
            )
            if cur.fetchone()[0] == N:
                return
        with transaction.atomic():
            cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SCHEMA)))
            cur.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(SCHEMA)))
            cur.execute(
                sql.SQL(
                    """
                    CREATE TABLE {}.{} AS
                    SELECT i::bigint AS id,
                           (ARRAY['张','王','李','赵','欧阳'])[1 + i %% 5] || '某' || (i %% 1000)
                               AS full_name,
                           ('420102' || to_char(date '1950-01-01' + (i %% 20000), 'YYYYMMDD')
                               || lpad((i %% 10000)::text, 4, '0'))::varchar(18) AS id_number,
                           ('138' || lpad((i %% 100000000)::text, 8, '0'))::varchar(11) AS mobile,
                           date '1950-01-01' + (i %% 20000) AS born,
                           '湖北省武汉市' || (ARRAY['江岸区','江汉区','硚口区','洪山区','某地'])[1 + i %% 5]
                               || '某路' || (i %% 500) || '号' AS address,
                           round((i %% 100000) / 7.0, 2)::numeric(18,2) AS amount
                    FROM generate_series(1, %s) AS s(i)
                    """
                ).format(sql.Identifier(SCHEMA), sql.Identifier(TABLE)),
                [N],
            )
            cur.execute(
                sql.SQL("ALTER TABLE {}.{} ADD PRIMARY KEY (id)").format(
                    sql.Identifier(SCHEMA), sql.Identifier(TABLE)
                )
            )
            cur.execute(
                sql.SQL("ANALYZE {}.{}").format(sql.Identifier(SCHEMA), sql.Identifier(TABLE))
            )


def _stream(select: sql.Composable) -> tuple[float, int]:
    query = sql.SQL("SELECT {} FROM {}.{}").format(
        select, sql.Identifier(SCHEMA), sql.Identifier(TABLE)
    )
    connection.ensure_connection()
    raw = connection.connection
    rows = 0
    t = time.perf_counter()
    with transaction.atomic(), raw.cursor(name="bench_masking_stream") as cur:
        cur.itersize = FETCH
        cur.execute(query)
        while True:
            chunk = cur.fetchmany(FETCH)
            if not chunk:
                break
            rows += len(chunk)
    return time.perf_counter() - t, rows


def run() -> list[dict]:
    _ensure_table()
    masked = masked_select(COLUMNS, RULES)
    plain = masked_select(COLUMNS, {})
    _stream(plain)  # warm the cache
    masked_times, plain_times = [], []
    for _ in range(ROUNDS):
        seconds, rows = _stream(plain)
        assert rows == N
        plain_times.append(seconds)
        seconds, rows = _stream(masked)
        assert rows == N
        masked_times.append(seconds)
    m, p = statistics.median(masked_times), statistics.median(plain_times)
    return [
        {
            "name": "masking.select.ratio",
            "value": round(m / p, 2),
            "unit": "ratio",
            "target": "<= 2",
            "baseline": round(p, 2),
            "method": (
                f"{N:,} rows streamed (server-side cursor, {FETCH:,} a fetch) with five masked "
                "columns (HMAC-SHA256, two keep-ends, month, district) vs the same SELECT "
                f"unmasked; medians of {ROUNDS} alternating rounds"
            ),
            "masked_s": round(m, 2),
            "plain_s": round(p, 2),
        }
    ]
