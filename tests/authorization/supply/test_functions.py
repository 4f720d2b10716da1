"""The supply functions (authorization/supply/functions.py): each column in the form asked,
key order only over clear keys, changed_since only over a clear flag, deleted keys recorded
by full loads; the web role reads a zone table only through them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from psycopg import sql

from aggregation.models import Batch, DatastoreTable
from tests.aggregation.factories import items_people, make_channel
from tests.aggregation.test_views import csv_rows, load
from tests.security.test_zones import as_role, refused


@pytest.fixture
def restricted(db):
    items = items_people()
    items[1]["masking_rule"] = "保留首尾"  # full_name
    setup = make_channel(items=items, grade="L3", name="受限通道")
    assert load(setup, csv_rows(12)).status == Batch.Status.SUCCEEDED
    return setup


def call(table, forms, *, after=None, limit=100, since=None, key="k"):
    fn = sql.SQL("{}.{}").format(
        sql.Identifier(table.schema), sql.Identifier(f"{table.table_name}_supply")
    )
    with connection.cursor() as cur:
        cur.execute(
            sql.SQL("SELECT * FROM {}(%s::text[], %s::text[], %s, %s, %s)").format(fn),
            [forms, after, limit, since, key],
        )
        return cur.fetchall()


ALL_CLEAR = ["clear"] * 6


def test_forms_per_column(restricted):
    table = DatastoreTable.objects.get(resource=restricted.resource)
    assert table.schema == "datastore_restricted"
    rows = call(table, ["clear", "masked", "hmac", "omit", "clear", "clear"], limit=3)
    assert [r[0] for r in rows] == ["A0001", "A0002", "A0003"]
    code, name, age, born, amount, updated, pos = rows[0]
    assert name == "姓*1"  # the item's rule keeps first and last
    assert len(age) == 64 and age != "21"  # hex HMAC
    assert born is None  # omitted
    assert amount == "1.50"
    assert pos is None  # key order
    # another HMAC key, another value; the same key, the same value
    assert (
        call(table, ["clear", "omit", "hmac", "omit", "omit", "omit"], limit=1, key="x")[0][2]
        != age
    )
    assert call(table, ["clear", "omit", "hmac", "omit", "omit", "omit"], limit=1)[0][2] == age


def test_key_order_and_after(restricted):
    table = DatastoreTable.objects.get(resource=restricted.resource)
    first = call(table, ALL_CLEAR, limit=5)
    rest = call(table, ALL_CLEAR, after=[first[-1][0]], limit=100)
    assert [r[0] for r in first + rest] == [f"A{i:04d}" for i in range(1, 13)]


def test_a_key_not_in_clear_pages_by_position(restricted):
    table = DatastoreTable.objects.get(resource=restricted.resource)
    forms = ["hmac", "clear", "omit", "omit", "omit", "omit"]
    first = call(table, forms, limit=5)
    assert all(r[-1] for r in first)  # ctid positions
    rest = call(table, forms, after=[first[-1][-1]], limit=100)
    assert len(first) + len(rest) == 12
    assert all(len(r[0]) == 64 for r in first + rest)


def test_changed_since_needs_the_flag_in_clear(restricted):
    table = DatastoreTable.objects.get(resource=restricted.resource)
    assert len(call(table, ALL_CLEAR, since="2025-01-02 08:00:00")) == 12
    assert call(table, ALL_CLEAR, since="2025-01-02 08:00:01") == []
    with pytest.raises(DatabaseError), transaction.atomic():
        call(table, ALL_CLEAR[:5] + ["masked"], since="2025-01-01")
    with pytest.raises(DatabaseError), transaction.atomic():
        call(table, ["clear", "open"] + ALL_CLEAR[2:])
    with pytest.raises(DatabaseError), transaction.atomic():
        call(table, ALL_CLEAR[:5])


def test_the_web_role_reads_the_zone_only_through_the_function(restricted):
    table = DatastoreTable.objects.get(resource=restricted.resource)
    with as_role("web"):
        refused(
            sql.SQL("SELECT * FROM {}.{}").format(
                sql.Identifier(table.schema), sql.Identifier(table.table_name)
            )
        )
    with as_role("web"):
        refused(
            sql.SQL("SELECT * FROM {}.{}").format(
                sql.Identifier(table.schema), sql.Identifier(f"{table.table_name}_deleted")
            )
        )
    with as_role("web"):
        assert len(call(table, ALL_CLEAR)) == 12


def test_a_full_load_records_the_keys_it_removes(restricted):
    table = DatastoreTable.objects.get(resource=restricted.resource)
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    assert load(restricted, csv_rows(8, start=3)).status == Batch.Status.SUCCEEDED  # drops 1, 2
    fn = sql.SQL("{}.{}").format(
        sql.Identifier(table.schema), sql.Identifier(f"{table.table_name}_supply_deleted")
    )
    forms = ["clear", "omit", "omit", "omit", "omit", "omit"]
    with connection.cursor() as cur:
        cur.execute(
            sql.SQL("SELECT * FROM {}(%s::text[], %s, 100, 'k')").format(fn), [forms, before]
        )
        removed = cur.fetchall()
    assert sorted(r[0] for r in removed) == ["A0001", "A0002", "A0011", "A0012"]
    # keys that come back are no longer reported deleted
    assert load(restricted, csv_rows(12)).status == Batch.Status.SUCCEEDED
    with connection.cursor() as cur:
        cur.execute(
            sql.SQL("SELECT * FROM {}(%s::text[], %s, 100, 'k')").format(fn), [forms, before]
        )
        assert cur.fetchall() == []


def test_count(restricted):
    table = DatastoreTable.objects.get(resource=restricted.resource)
    fn = sql.SQL("{}.{}").format(
        sql.Identifier(table.schema), sql.Identifier(f"{table.table_name}_supply_count")
    )
    with connection.cursor() as cur:
        cur.execute(sql.SQL("SELECT {}(%s::text[], NULL)").format(fn), [ALL_CLEAR])
        assert cur.fetchone()[0] == 12
