"""The gunicorn of `bench_supply.py`: the portal's settings and URLs, plus one bare view, the
baseline: the same masked keyset SQL as the supply API's function (the same per-column
delivery expressions over the same table), run directly, its rows returned as the JSON
PostgreSQL builds; no key, no throttle, no audit, no usage, no sealed cursor (the last key is
passed back in clear). Used by the benchmark only (supply_server_settings.py makes this the
URL table)."""

from __future__ import annotations

import json

from django.db import connection
from django.http import HttpResponse
from django.urls import include, path
from psycopg import sql

from aggregation.datastore import masking_rules, read_columns
from aggregation.models import DatastoreTable
from authorization.supply.functions import delivered


def baseline(request, table_id: int):
    table = DatastoreTable.objects.get(pk=table_id)
    rules = masking_rules(table.resource)
    columns = read_columns(table, {n: r.mask for n, r in rules.items()})
    forms = request.GET["forms"].split(",")
    names = [c.name for c in columns]
    fields = [n for n, f in zip(names, forms, strict=True) if f != "omit"]
    keys = [c for c in columns if c.key]
    after = request.GET.get("after")
    where = sql.SQL("TRUE")
    params: list = [forms, request.GET["hmac"]]
    if after:
        where = sql.SQL("({}) > ({})").format(
            sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c.name)) for c in keys),
            sql.SQL(", ").join(sql.SQL("%s::{}").format(sql.SQL(c.type)) for c in keys),
        )
        params += json.loads(after)
    inner = sql.SQL(
        "SELECT {sel} FROM {tbl} t, (SELECT %s::text[] AS p_forms, %s::text AS p_hmac_key) a "
        "WHERE {where} ORDER BY {order} LIMIT %s"
    ).format(
        sel=sql.SQL(", ").join(
            sql.SQL("{} AS {}").format(
                delivered(c, i, sql.SQL("t.{}").format(sql.Identifier(c.name))),
                sql.Identifier(c.name),
            )
            for i, c in enumerate(columns, 1)
        ),
        tbl=sql.SQL("{}.{}").format(sql.Identifier(table.schema), sql.Identifier(table.table_name)),
        where=where,
        order=sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c.name)) for c in keys),
    )
    params.append(int(request.GET["limit"]))
    query = sql.SQL(
        "SELECT coalesce(json_agg(json_build_object({obj})), '[]')::text, count(*), "
        "json_build_array({last})::text FROM ({inner}) s"
    ).format(
        obj=sql.SQL(", ").join(
            sql.SQL("{}, s.{}").format(sql.Literal(n), sql.Identifier(n)) for n in fields
        ),
        last=sql.SQL(", ").join(
            sql.SQL("(array_agg(s.{}))[count(*)]").format(sql.Identifier(c.name)) for c in keys
        ),
        inner=inner,
    )
    with connection.cursor() as cur:
        cur.execute(query, params)
        body, count, last = cur.fetchone()
    head = json.dumps({"count": count, "after": last if count else None})[:-1]
    return HttpResponse(head + ',"rows":' + body + "}", content_type="application/json")


urlpatterns = [
    path("bench/supply-baseline/<int:table_id>/", baseline),
    path("", include("wuhan_pdr.urls")),
]
