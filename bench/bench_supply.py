"""Issue #14 item 4: paging a whole resource through the data supply API, beside the bare SQL.

Data: a 1,000,000-row published resource (general zone) with seven items: a key, a name
masked by its item's rule (keep first and last), an ID number, an age, a birth date, an
amount and an update flag; rows made in SQL once (generate_series) and kept between runs.
A grant holds every item: the name `masked`, the ID number `hmac`, the rest `clear`.

Both run on one live gunicorn (one sync worker, as the web's database role where the roles
exist; `supply_server_settings.py` adds the baseline's URL to the portal's):

- platform: `GET /api/v1/supply/<id>/rows/?limit=5000` following `next` to the end: the key
  checked, the grant's per-minute counter in Redis, the table's `<t>_supply` definer function
  (each column in its form), the page's JSON built by PostgreSQL, the sealed cursor, an audit
  entry and the day's usage upsert per page;
- baseline: `supply_server.baseline`, a minimal view on the same server running the same
  masked keyset SELECT (the same per-column delivery expressions, key order, LIMIT 5000)
  directly, returning PostgreSQL's JSON, its last key passed back in clear.

Figure `supply.rows.keyset_ratio` = platform rows/s / baseline rows/s (medians of alternating
rounds; the client reads each whole answer and only parses its head). Target >= 0.7.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from django.db import connection, transaction
from django.utils import timezone
from psycopg import sql

from aggregation.datastore import (
    as_table_owner,
    datastore_ensure,
    qualified,
    read_functions_refresh,
)
from aggregation.models import DatastoreTable
from catalog.models import ResourceVersion

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

N = int(os.environ.get("BENCH_SUPPLY_ROWS", 1_000_000))
PAGE = 5000
ROUNDS = 3
NAME = "供数基准测试"
ITEMS = [
    {"name": "编号", "english_name": "code", "data_type": "C", "length": 20, "is_key": True},
    {
        "name": "姓名",
        "english_name": "full_name",
        "data_type": "C",
        "length": 20,
        "masking_rule": "保留首尾",
    },
    {"name": "身份证号", "english_name": "id_number", "data_type": "C", "length": 18},
    {"name": "年龄", "english_name": "age", "data_type": "I"},
    {"name": "出生日期", "english_name": "born", "data_type": "D"},
    {"name": "金额", "english_name": "amount", "data_type": "Y", "length": 18},
    {"name": "更新时间", "english_name": "updated_at", "data_type": "T", "is_update_flag": True},
]
FORMS = {"full_name": "masked", "id_number": "hmac"}


def _resource():
    version = (
        ResourceVersion.objects.filter(name=NAME, state=ResourceVersion.State.PUBLISHED)
        .select_related("resource")
        .first()
    )
    if version is not None:
        return version.resource
    from tests.accounts.factories import OrganizationFactory, UserFactory
    from tests.aggregation.factories import make_channel
    from wuhan_pdr.accounts.models import Organization, User

    OrganizationFactory.reset_sequence(Organization.objects.count() + 30_000)
    UserFactory.reset_sequence(User.objects.count() + 30_000)
    with transaction.atomic():
        setup = make_channel(items=ITEMS, name=NAME)
        version = setup.resource.published_version
        version.name = NAME
        version.save(update_fields=["name"])
    return setup.resource


def _fill(resource) -> DatastoreTable:
    table = datastore_ensure(resource=resource)
    if table.row_count == N:
        _remake_functions(table)
        return table
    with transaction.atomic(), as_table_owner(), connection.cursor() as cur:
        cur.execute(sql.SQL("TRUNCATE {}").format(qualified(table)))
        cur.execute(
            sql.SQL(
                """
                INSERT INTO {} (code, full_name, id_number, age, born, amount, updated_at)
                SELECT 'P' || lpad(i::text, 8, '0'),
                       (ARRAY['张','王','李','赵','欧阳'])[1 + i %% 5] || '某' || (i %% 1000),
                       '420102' || to_char(date '1950-01-01' + (i %% 20000), 'YYYYMMDD')
                           || lpad((i %% 10000)::text, 4, '0'),
                       18 + i %% 60,
                       date '1950-01-01' + (i %% 20000),
                       round((i %% 100000) / 7.0, 2),
                       timestamp '2025-01-01' + (i %% 86400) * interval '1 second'
                FROM generate_series(1, %s) AS s(i)
                """
            ).format(qualified(table)),
            [N],
        )
        cur.execute(sql.SQL("ANALYZE {}").format(qualified(table)))
    DatastoreTable.objects.filter(pk=table.pk).update(row_count=N, generation=table.generation + 1)
    table.refresh_from_db()
    _remake_functions(table)
    return table


def _remake_functions(table: DatastoreTable) -> None:
    """The table's read functions made afresh. `manage.py db_roles` (run by `make bench`'s
    migrate) gives the general zone's functions to the owner role, which the worker role the
    datastore code takes cannot replace: the benchmark (a superuser) drops them first."""
    from security import zones

    with transaction.atomic():
        zones.read_functions_drop(schema=table.schema, table=table.table_name)
    read_functions_refresh(table)


def _grant(resource):
    from authorization.sharing.models import Grant
    from authorization.sharing.services import grant_issue
    from tests.accounts.factories import OrganizationFactory
    from wuhan_pdr.accounts.models import Organization

    OrganizationFactory.reset_sequence(Organization.objects.count() + 40_000)
    items = {
        i.pk: FORMS.get(i.english_name, "clear") for i in resource.published_version.items.all()
    }
    with transaction.atomic():
        grant, key = grant_issue(
            resource=resource,
            grantee=OrganizationFactory(),
            items=items,
            origin="operation",
            valid_until=timezone.now() + dt.timedelta(days=1),
            rate_per_minute=100_000,
            acting_user=None,
        )
        Grant.objects.filter(pk=grant.pk).update(needs_assessment=False)
    return grant, key


def _get(port: int, url: str, headers: dict) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("GET", url, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"{url}: {response.status} {data[:300]!r}")
    head = data[: data.index(b',"rows":')] + b"}"
    return json.loads(head)


def _platform(port: int, resource, key: str) -> tuple[float, int]:
    base = f"/api/v1/supply/{resource.pk}/rows/"
    headers = {"Authorization": f"Bearer {key}"}
    rows, params = 0, {"limit": PAGE}
    t = time.perf_counter()
    while True:
        head = _get(port, f"{base}?{urlencode(params)}", headers)
        rows += head["count"]
        if not head["next"]:
            break
        params = {"limit": PAGE, "cursor": head["next"]}
    return time.perf_counter() - t, rows


def _baseline(port: int, table, forms: list[str], hmac: str) -> tuple[float, int]:
    base = f"/bench/supply-baseline/{table.pk}/"
    rows, params = 0, {"limit": PAGE, "forms": ",".join(forms), "hmac": hmac}
    t = time.perf_counter()
    while True:
        head = _get(port, f"{base}?{urlencode(params)}", {})
        rows += head["count"]
        if head["count"] < PAGE:
            break
        params = {**params, "after": head["after"]}
    return time.perf_counter() - t, rows


def run() -> list[dict]:
    from authorization.supply.selectors import grant_hmac_key, supply_plan
    from security import zones
    from security.dbroles import role_name
    from tests.services import WebServer

    resource = _resource()
    table = _fill(resource)
    grant, key = _grant(resource)
    plan = supply_plan(grant, table, None)
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "supply_server_settings"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "bench")])
    env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    env.pop("DATABASE_ROLE", None)
    web_role = zones.role_exists(role_name("web"))
    if web_role:
        env["DATABASE_ROLE"] = "web"
    with tempfile.TemporaryDirectory() as logs:
        server = WebServer(Path(logs), env).start()
        try:
            _platform(server.port, resource, key)  # warm: caches, plans, the first connection
            _baseline(server.port, table, plan.forms, grant_hmac_key(grant))
            ours, bare = [], []
            for _ in range(ROUNDS):
                seconds, rows = _baseline(server.port, table, plan.forms, grant_hmac_key(grant))
                assert rows == N, rows
                bare.append(seconds)
                seconds, rows = _platform(server.port, resource, key)
                assert rows == N, rows
                ours.append(seconds)
        finally:
            server.stop()
    p, b = statistics.median(ours), statistics.median(bare)
    return [
        {
            "name": "supply.rows.keyset_ratio",
            "value": round(b / p, 2),
            "unit": "ratio",
            "target": ">= 0.7",
            "baseline": round(N / b),
            "method": (
                f"{N:,} rows paged {PAGE:,} at a time over HTTP from one gunicorn sync worker"
                f"{' (web role)' if web_role else ''}: the supply API (key, Redis throttle, "
                "definer function with per-grant forms, sealed cursor, audit entry and usage "
                "per page) vs a bare view running the same masked keyset SELECT; throughput "
                f"ratio, medians of {ROUNDS} alternating rounds"
            ),
            "platform_rows_per_s": round(N / p),
            "baseline_rows_per_s": round(N / b),
            "platform_s": round(p, 2),
            "baseline_s": round(b, 2),
        }
    ]
