"""The keyed hash stored at load (decision "stored-keyed-hash"): a column masked by `hmac` has a
companion column the loads fill in the statement that writes the rows; the read functions read
it where the caller's key is the one it was stored under and compute it otherwise, so a rotated
key or a changed rule is never wrong, only slower until the backfill job ran; companions never
leave as data (preview, open data, evidence snapshot, supply functions) and move with a table
between zones."""

from __future__ import annotations

import csv
import hashlib
import io

import pytest
from django.db import connection, transaction
from django.test import override_settings
from psycopg import sql

from aggregation import hashes
from aggregation.datastore import (
    datastore_apply_pending,
    qualified,
    read_functions_current,
    stored_hashes_due,
    table_columns,
)
from aggregation.models import Batch, DatastoreTable
from aggregation.readfunctions import (
    BACKFILL_TASK,
    TASK,
    read_functions_remake,
    stored_hashes_backfill,
    stored_hashes_sweep,
)
from security import zones
from security.masking import HMAC, Mask, key_fingerprint, mask_value, stored_hash_column
from security.masking.services import masking_rule_create, masking_rule_update
from tests.aggregation.factories import items_people, make_channel, security_admin
from tests.aggregation.test_views import HEADER, csv_rows, load
from tests.security.test_zones import as_role
from wuhan_pdr.kernel.models import BackgroundJob

OTHER_KEY = "rotated-masking-key-" + "r" * 40
HASH_RULE = "哈希"  # the seeded rule of method hmac


def hashed_items(born_rule: str | None = HASH_RULE) -> list[dict]:
    """items_people with the name (varchar: hashed in Python by the fast COPY) and the birth
    date (date: hashed in SQL) masked by keyed hash."""
    items = items_people()
    items[1]["masking_rule"] = HASH_RULE  # full_name
    if born_rule:
        items[3]["masking_rule"] = born_rule  # born
    return items


def twin(value, key=None) -> str | None:
    return mask_value(value, Mask(HMAC), key=key)


def stored_rows(table: DatastoreTable) -> list[tuple]:
    """(code, full_name, born, _hmac_full_name, _hmac_born) of every row, read as the owner."""
    table.refresh_from_db()
    with connection.cursor() as cur:
        cur.execute(
            sql.SQL("SELECT code, full_name, born, {}, {} FROM {} ORDER BY code").format(
                sql.Identifier(stored_hash_column("full_name")),
                sql.Identifier(stored_hash_column("born")),
                qualified(table),
            )
        )
        return cur.fetchall()


def shown(table: DatastoreTable, limit: int = 50) -> list[tuple]:
    """(code, full_name, born) of the first page as the web role reads it."""
    table.refresh_from_db()
    with as_role("web"):
        rows = zones.read_page(
            schema=table.schema,
            table=table.table_name,
            after=None,
            backwards=False,
            prefix=None,
            limit=limit,
        )
    return [(r[0], r[1], r[3]) for r in rows]


def clear_rows(table: DatastoreTable) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(
            sql.SQL("SELECT code, full_name, born FROM {} ORDER BY code").format(qualified(table))
        )
        return cur.fetchall()


def assert_masked_read_is_live(table: DatastoreTable, key=None) -> None:
    """Every row read through the definer function has the live HMAC (the Python twin) of its
    name and birth date under `key`."""
    clear = clear_rows(table)
    read = shown(table, limit=len(clear) + 1)
    assert len(read) == len(clear) > 0
    for (code, name, born), (code_r, name_r, born_r) in zip(clear, read, strict=True):
        assert code_r == code
        assert name_r == twin(name, key)
        assert born_r == twin(born, key)


def function_body(table: DatastoreTable, suffix: str = "_page") -> str:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT pg_get_functiondef(p.oid) FROM pg_proc p JOIN pg_namespace n "
            "ON n.oid = p.pronamespace WHERE n.nspname = %s AND p.proname = %s",
            [table.schema, f"{table.table_name}{suffix}"],
        )
        return cur.fetchone()[0]


def jobs(task=BACKFILL_TASK) -> list[BackgroundJob]:
    return list(BackgroundJob.objects.filter(task_name=task).order_by("created_at"))


@pytest.fixture
def hashed(db):
    """A restricted-zone resource (L3) whose name and birth date are masked by keyed hash, 6
    rows loaded in full."""
    setup = make_channel(items=hashed_items(), grade="L3", name="哈希通道")
    assert load(setup, csv_rows(6)).status == Batch.Status.SUCCEEDED
    return setup, DatastoreTable.objects.get(resource=setup.resource)


# --- a load fills them --------------------------------------------------------------------------


def test_a_full_load_fills_the_companions_and_the_read_is_the_live_hmac(hashed):
    _setup, table = hashed
    assert table.schema == "datastore_restricted"
    fp = key_fingerprint()
    assert table.stored_hashes == {"full_name": fp, "born": fp}
    rows = stored_rows(table)
    assert len(rows) == 6
    for _code, name, born, name_hash, born_hash in rows:
        assert name_hash == twin(name)  # Python (varchar, fast COPY)
        assert born_hash == twin(born)  # SQL (date)
    assert_masked_read_is_live(table)
    # The functions read the companions, checking the caller's key against the fingerprint;
    # neither the key nor anything but its fingerprint is in their text.
    body = function_body(table)
    assert stored_hash_column("full_name") in body and fp in body
    from security.masking import hmac_key

    assert hmac_key() not in body
    assert read_functions_current(table) and not stored_hashes_due(table)


def test_an_incremental_load_and_a_checked_load_fill_them_too(db):
    setup = make_channel(items=hashed_items(), update_mode="incremental", name="增量哈希")
    assert load(setup, csv_rows(4)).status == Batch.Status.SUCCEEDED
    # Two rows changed, one new: merged by key; the changed names get their new hashes.
    changed = HEADER + (
        "A0002,新名2,22,1990-01-03,2.50,2025-02-02 08:00:00\n"
        "A0003,新名3,23,1990-01-04,3.50,2025-02-02 08:00:00\n"
        "A0009,姓名9,29,1990-01-10,9.50,2025-02-02 08:00:00\n"
    )
    assert load(setup, changed).status == Batch.Status.SUCCEEDED
    table = DatastoreTable.objects.get(resource=setup.resource)
    rows = stored_rows(table)
    assert [r[1] for r in rows] == ["姓名1", "新名2", "新名3", "姓名4", "姓名9"]
    assert all(r[3] == twin(r[1]) and r[4] == twin(r[2]) for r in rows)
    # A bad age fails the fast COPY: the checked path (stage, casts) loads the good rows,
    # their hashes computed in its INSERT.
    bad = HEADER + (
        "A0010,姓名10,不是数字,1990-01-11,10.50,2025-03-02 08:00:00\n"
        "A0011,姓名11,31,1990-1-12,11.50,2025-03-02 08:00:00\n"
    )
    setup.channel.allow_reject_file = True
    setup.channel.save(update_fields=["allow_reject_file"])
    batch = load(setup, bad)
    assert batch.status == Batch.Status.SUCCEEDED and batch.rows_rejected == 1
    rows = stored_rows(table)
    assert [r[0] for r in rows][-1] == "A0011"
    assert all(r[3] == twin(r[1]) and r[4] == twin(r[2]) for r in rows)
    assert_masked_read_is_live(table)
    fp = key_fingerprint()
    table.refresh_from_db()
    assert table.stored_hashes == {"full_name": fp, "born": fp}
    # A file without the name column: the merge writes the name NULL, and its hash with it.
    nameless = "编号,年龄,出生日期,金额,更新时间\nA0001,21,1990-01-02,1.50,2025-04-02 08:00:00\n"
    assert load(setup, nameless).status == Batch.Status.SUCCEEDED
    first = stored_rows(table)[0]
    assert first[0] == "A0001" and first[1] is None and first[3] is None
    assert first[4] == twin(first[2])
    assert_masked_read_is_live(table)


def test_a_table_whose_key_is_masked_by_hash_still_pages(db):
    from aggregation.selectors import preview_page

    items = items_people()
    items[0]["masking_rule"] = HASH_RULE  # the key itself
    setup = make_channel(items=items, name="键哈希")
    assert load(setup, csv_rows(7)).status == Batch.Status.SUCCEEDED
    table = DatastoreTable.objects.get(resource=setup.resource)
    assert table.stored_hashes == {"code": key_fingerprint()}
    user = setup.agency.staff
    seen = []
    page = preview_page(table, user=user, limit=3)
    seen += [r[0] for r in page.rows]
    while page.next_cursor:
        page = preview_page(table, user=user, after=page.next_cursor, limit=3)
        seen += [r[0] for r in page.rows]
    assert page.by_ctid and len(page.columns) == len(table_columns(table))
    assert sorted(seen) == sorted(twin(f"A{i:04d}") for i in range(1, 8))
    assert all(len(r) == len(page.columns) for r in page.rows)  # no companion


# --- rotation and rule changes ------------------------------------------------------------------


def test_after_a_key_rotation_the_read_is_right_before_and_after_the_backfill(hashed):
    _setup, table = hashed
    old_fp = key_fingerprint()
    with override_settings(MASKING_HMAC_KEY=OTHER_KEY):
        new_fp = key_fingerprint()
        assert new_fp != old_fp
        # Before: the functions see another key than the stored one and compute it.
        assert_masked_read_is_live(table, OTHER_KEY)
        assert stored_hashes_due(table)
        before = len(jobs())
        assert stored_hashes_sweep() == [table.pk]
        queued = jobs()[before:]
        assert len(queued) == 1 and queued[0].kwargs == {"table_ids": [table.pk]}

        assert stored_hashes_backfill(**queued[0].kwargs) == 1
        table.refresh_from_db()
        assert table.stored_hashes == {"full_name": new_fp, "born": new_fp}
        assert all(r[3] == twin(r[1], OTHER_KEY) for r in stored_rows(table))
        assert new_fp in function_body(table)
        assert_masked_read_is_live(table, OTHER_KEY)
        # Idempotent: nothing left to do.
        assert stored_hashes_backfill(table_ids=[table.pk]) == 0
        assert stored_hashes_sweep() == []
    # A process still holding the old key computes its hashes itself: right for it too.
    assert_masked_read_is_live(table)


def test_an_incremental_load_under_a_new_key_marks_them_stale_until_the_backfill(db):
    setup = make_channel(items=hashed_items(), update_mode="incremental", name="轮换增量")
    assert load(setup, csv_rows(3)).status == Batch.Status.SUCCEEDED
    table = DatastoreTable.objects.get(resource=setup.resource)
    old_fp = key_fingerprint()
    with override_settings(MASKING_HMAC_KEY=OTHER_KEY):
        before = len(jobs())
        assert load(setup, csv_rows(2, start=3)).status == Batch.Status.SUCCEEDED
        table.refresh_from_db()
        # Rows under two keys: no fingerprint is true of all of them, the old one is gone
        # from the functions (a reader with the old key would read new-key hashes).
        assert table.stored_hashes == {"full_name": "", "born": ""}
        assert old_fp not in function_body(table)
        assert_masked_read_is_live(table, OTHER_KEY)
        queued = jobs()[before:]
        assert [j.kwargs for j in queued] == [{"table_ids": [table.pk]}]
        stored_hashes_backfill(**queued[0].kwargs)
        table.refresh_from_db()
        assert set(table.stored_hashes.values()) == {key_fingerprint()}
        assert all(r[3] == twin(r[1], OTHER_KEY) for r in stored_rows(table))
        assert_masked_read_is_live(table, OTHER_KEY)
    assert_masked_read_is_live(table)


def test_a_rule_changed_to_hmac_gets_its_companion_from_the_remake_job(db):
    admin = security_admin()
    rule = masking_rule_create(
        acting_user=admin, name="先保留首尾", method="keep_ends", keep_first=1, keep_last=1
    )
    setup = make_channel(items=hashed_items(born_rule=rule.name), grade="L3", name="改规则")
    assert load(setup, csv_rows(4)).status == Batch.Status.SUCCEEDED
    table = DatastoreTable.objects.get(resource=setup.resource)
    assert set(table.stored_hashes) == {"full_name"}

    before = len(jobs(TASK))
    masking_rule_update(rule=rule, acting_user=admin, method="hmac")
    queued = jobs(TASK)[before:]
    assert [j.kwargs for j in queued] == [{"table_ids": [table.pk]}]
    # Before the job: the functions mask by the old rule and the reader masks again by the
    # new one (aggregation/selectors.py); the stored state is untouched.
    table.refresh_from_db()
    assert set(table.stored_hashes) == {"full_name"}

    read_functions_remake(**queued[0].kwargs)
    table.refresh_from_db()
    fp = key_fingerprint()
    assert table.stored_hashes == {"full_name": fp, "born": fp}
    assert all(r[4] == twin(r[2]) for r in stored_rows(table))
    assert_masked_read_is_live(table)

    # And back: the companion goes with the rule.
    masking_rule_update(rule=rule, acting_user=admin, method="keep_ends")
    read_functions_remake(table_ids=[table.pk])
    table.refresh_from_db()
    assert set(table.stored_hashes) == {"full_name"}
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_attribute WHERE attrelid = %s::regclass "
            "AND attname = %s AND NOT attisdropped",
            [f"{table.schema}.{table.table_name}", stored_hash_column("born")],
        )
        assert cur.fetchone()[0] == 0


def test_a_table_from_before_companions_is_found_by_the_sweep(hashed):
    _setup, table = hashed
    # As a table loaded before this change: no companion, no record.
    with connection.cursor() as cur:
        hashes.drop_companions(cur, qualified(table), ["full_name", "born"])
    DatastoreTable.objects.filter(pk=table.pk).update(stored_hashes={})
    table.refresh_from_db()
    assert stored_hashes_due(table)
    assert stored_hashes_sweep() == [table.pk]
    stored_hashes_backfill(table_ids=[table.pk])
    table.refresh_from_db()
    assert set(table.stored_hashes.values()) == {key_fingerprint()}
    assert_masked_read_is_live(table)


# --- never data -----------------------------------------------------------------------------


def test_a_zone_move_carries_the_companions(hashed):
    from aggregation.datastore import datastore_ensure
    from tests.aggregation.test_zone_moves import regrade

    setup, table = hashed
    regrade(setup, "L4")
    table = datastore_ensure(resource=setup.resource)
    assert table.pending_changes and table.pending_changes[-1]["action"] == "zone"
    moved = datastore_apply_pending(resource=setup.resource, confirm=True)
    assert moved.schema == "datastore_sensitive"
    fp = key_fingerprint()
    assert moved.stored_hashes == {"full_name": fp, "born": fp}
    rows = stored_rows(moved)
    assert len(rows) == 6
    assert all(r[3] == twin(r[1]) and r[4] == twin(r[2]) for r in rows)
    assert_masked_read_is_live(moved)


def test_companions_never_leave_as_data(hashed):
    from aggregation.selectors import preview_page
    from authorization.supply.functions import names as supply_names

    setup, table = hashed
    columns = [c.name for c in table_columns(table)]
    page = preview_page(table, user=setup.agency.staff, limit=10)
    assert [c.name for c in page.columns] == columns
    assert len(page.rows) == 6 and all(len(r) == len(columns) for r in page.rows)
    assert page.rows[0][1] == twin("姓名1")
    # The supply functions name their columns: none is a companion.
    for name in supply_names(table.table_name)[:1]:
        body = function_body(table, name[len(table.table_name) :])
        assert stored_hash_column("full_name") not in body
        assert stored_hash_column("born") not in body
        with connection.cursor() as cur:
            cur.execute(
                "SELECT p.proargnames FROM pg_proc p JOIN pg_namespace n "
                "ON n.oid = p.pronamespace WHERE n.nspname = %s AND p.proname = %s",
                [table.schema, name],
            )
            out = cur.fetchone()[0]
        assert out[-1] == "_pos" and not any(a.startswith("_hmac_") for a in out)


def test_the_evidence_snapshot_is_the_same_bytes_with_companions(hashed):
    from registration.evidence import canonical

    _setup, table = hashed
    columns = [canonical.SnapshotColumn(c.name, c.type, c.key) for c in table_columns(table)]

    def digest(name: str) -> tuple[str, bytes]:
        out = io.BytesIO()
        writer = canonical.DigestWriter(out)
        with transaction.atomic(), connection.cursor() as cur:
            canonical.write_snapshot(
                cur.cursor, schema=table.schema, table=name, columns=columns, writer=writer
            )
        return writer.hexdigest(), out.getvalue()

    with_companions, data = digest(table.table_name)
    with connection.cursor() as cur:
        cur.execute(
            sql.SQL("CREATE TABLE {}.{} AS SELECT {} FROM {}").format(
                sql.Identifier(table.schema),
                sql.Identifier("plain_twin"),
                sql.SQL(", ").join(sql.Identifier(c.name) for c in columns),
                qualified(table),
            )
        )
    without, _ = digest("plain_twin")
    assert with_companions == without == hashlib.sha256(data).hexdigest()
    header = next(csv.reader(io.StringIO(data.decode())))
    assert header == [c.name for c in columns]


def test_open_data_files_hold_the_public_columns_only(db):
    from authorization.opendata import services as opendata
    from tests.authorization.opendata.factories import city_licence, make_open, open_items

    city_licence()
    items = open_items()
    items[1]["masking_rule"] = HASH_RULE  # full_name
    setup = make_open(n=4, items=items, name="哈希开放")
    table = DatastoreTable.objects.get(resource=setup.resource)
    assert table.stored_hashes == {"full_name": key_fingerprint()}
    dataset = opendata.downloads_build(resource_id=setup.resource.pk)
    csv_file = dataset.files.get(format="csv")
    lines = list(csv.reader(io.StringIO(csv_file.file.open("rb").read().decode("utf-8-sig"))))
    assert len(lines) == 5 and all(len(line) == len(lines[0]) for line in lines)
    assert "_hmac_" not in ",".join(lines[0])
    names = [line[1] for line in lines[1:]]
    assert names == [twin(f"姓名{i}") for i in range(1, 5)]


def test_no_rule_no_companion_and_the_load_is_unchanged(db):
    setup = make_channel(name="无哈希")
    assert load(setup, csv_rows(3)).status == Batch.Status.SUCCEEDED
    table = DatastoreTable.objects.get(resource=setup.resource)
    assert table.stored_hashes == {}
    assert "@stored_hashes" not in (table.read_masked or {})
    assert not stored_hashes_due(table)


def test_a_load_of_a_hashed_table_asks_two_queries_more_than_a_plain_one(db):
    """Every load reads the table's stored state once; recording it costs nothing more when
    it does not change (the same key)."""
    from django.test.utils import CaptureQueriesContext

    plain = make_channel(name="计数甲")
    hashed_setup = make_channel(items=hashed_items(), name="计数乙")
    for s in (plain, hashed_setup):
        assert load(s, csv_rows(3)).status == Batch.Status.SUCCEEDED
    counts = []
    for s in (plain, hashed_setup):
        with CaptureQueriesContext(connection) as ctx:
            assert load(s, csv_rows(3)).status == Batch.Status.SUCCEEDED
        counts.append(len(ctx.captured_queries))
    # The temporary table and its INSERT of the date's hashes (the key is handed and the
    # COPY streamed on the raw connection).
    assert counts[1] - counts[0] == 2
