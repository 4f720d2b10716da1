"""Storage zones (issue #13, item 2; security/zones.py): a resource's rows live in the schema of
its grade's zone, owned by the zone's role; the web role reads them only through the table's
SECURITY DEFINER functions, which return masked rows; a grade change moves the table only when
someone confirms it."""

from __future__ import annotations

import psycopg
import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from psycopg import sql

from aggregation import selectors, services
from aggregation.datastore import datastore_ensure, qualified
from aggregation.models import Batch, DatastoreTable
from aggregation.objections.services import rows_by_key
from security import zones
from security.dbroles import role_name
from tests.aggregation.factories import items_people, make_channel, security_admin
from tests.aggregation.test_views import client, csv_rows, load
from tests.catalog.factories import grade
from wuhan_pdr.kernel.errors import DomainError


def masked_items() -> list[dict]:
    items = items_people()
    items[1]["masking_rule"] = "保留首尾"  # full_name
    return items


@pytest.fixture
def restricted(db):
    """An L3 resource (restricted zone) whose names are masked, with 12 rows loaded."""
    setup = make_channel(items=masked_items(), grade="L3", name="受限通道")
    assert load(setup, csv_rows(12)).status == Batch.Status.SUCCEEDED
    return setup


def table_of(setup) -> DatastoreTable:
    return DatastoreTable.objects.get(resource=setup.resource)


def as_role(kind: str):
    """SET LOCAL ROLE inside a savepoint that is rolled back afterwards (the refusal aborts it)."""

    class _Role:
        def __enter__(self):
            self.atomic = transaction.atomic()
            self.atomic.__enter__()
            with connection.cursor() as cur:
                cur.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role_name(kind))))
            return self

        def __exit__(self, *exc):
            self.atomic.__exit__(RuntimeError, RuntimeError("rolled back"), None)
            return False

    return _Role()


def refused_call(call) -> BaseException:
    """`call` fails with PostgreSQL's insufficient_privilege (42501)."""
    with pytest.raises(DatabaseError) as caught:
        call()
    cause = caught.value.__cause__ or caught.value
    assert isinstance(cause, psycopg.errors.InsufficientPrivilege), repr(caught.value)
    return cause


def refused(query) -> BaseException:
    def run():
        with connection.cursor() as cur:
            cur.execute(query)

    return refused_call(run)


# --- where the rows live ------------------------------------------------------------------------


def test_the_zone_table_lives_in_the_zone_schema_owned_by_the_zone_role(restricted):
    table = table_of(restricted)
    assert table.schema == "datastore_restricted"
    with connection.cursor() as cur:
        cur.execute(
            "SELECT tableowner FROM pg_tables WHERE schemaname = %s AND tablename = %s",
            [table.schema, table.table_name],
        )
        assert cur.fetchone()[0] == role_name("zone_restricted")
        cur.execute(
            "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = %s",
            [table.schema],
        )
        assert cur.fetchone()[0] == role_name("zone_restricted")
    assert table.row_count == 12


def test_a_general_resource_stays_in_the_datastore_schema(db):
    setup = make_channel()  # L2: the general zone
    load(setup, csv_rows(3))
    assert table_of(setup).schema == "datastore"


def test_the_most_sensitive_grade_names_the_zone(db):
    assert zones.zone_of_grades([grade("L2"), None, grade("L4"), grade("L3")]) == "sensitive"
    assert zones.zone_of_grades([grade("L1"), grade("L2")]) == "general"
    assert zones.zone_of_grades([]) == "general"


# --- who may read them --------------------------------------------------------------------------


def test_the_web_role_cannot_select_from_a_zone_table(restricted):
    table = table_of(restricted)
    with as_role("web"):
        refused(sql.SQL("SELECT * FROM {}").format(qualified(table)))
    with connection.cursor() as cur:  # nor become the zone's role
        cur.execute(
            "SELECT pg_has_role(%s, %s, 'MEMBER')", [role_name("web"), role_name("zone_restricted")]
        )
        assert cur.fetchone()[0] is False


def test_the_worker_reads_a_zone_table_only_as_the_zone_role(restricted):
    table = table_of(restricted)
    with as_role("worker"):
        refused(sql.SQL("SELECT * FROM {}").format(qualified(table)))
    with (
        as_role("worker"),
        transaction.atomic(),
        zones.zone_role("restricted"),
        connection.cursor() as cur,
    ):
        cur.execute(sql.SQL("SELECT count(*) FROM {}").format(qualified(table)))
        assert cur.fetchone()[0] == 12


def test_the_definer_function_gives_the_web_role_masked_rows(restricted):
    table = table_of(restricted)
    with as_role("web"):
        rows = zones.read_page(
            schema=table.schema,
            table=table.table_name,
            after=None,
            backwards=False,
            prefix=None,
            limit=5,
        )
        found = rows_by_key(table, [["A0003"]])
    assert [r[0] for r in rows] == ["A0001", "A0002", "A0003", "A0004", "A0005"]
    assert rows[1][1] == "姓*2" and all("姓名" not in str(r) for r in rows)
    assert found["rows"] == [["A0003", "姓*3", *found["rows"][0][2:]]]


def test_the_definer_functions_are_pinned_and_not_public(restricted):
    table = table_of(restricted)
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT p.proname, p.prosecdef, p.proconfig, pg_get_userbyid(p.proowner), p.prosrc,
                   has_function_privilege(%s, p.oid, 'EXECUTE'),
                   EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0)
              FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = %s AND p.proname LIKE %s
            """,
            [role_name("web"), table.schema, table.table_name + "\\_%"],
        )
        functions = cur.fetchall()
    made_by_builders = [
        name for b in zones.read_function_builders() for name in b.names(table.table_name)
    ]
    assert sorted(f[0] for f in functions) == sorted(
        [*zones.function_names(table.table_name).values(), *made_by_builders]
    )
    for _name, definer, config, owner, source, web_may, public_may in functions:
        assert definer and config == ["search_path=pg_catalog, pg_temp"]
        assert owner == role_name("zone_restricted")
        assert web_may and not public_may
        assert "姓名" not in source and "A0001" not in source


def test_rows_are_never_filtered_by_a_masked_key(db):
    items = items_people()
    items[0]["masking_rule"] = "保留首尾"
    setup = make_channel(items=items, grade="L3")
    load(setup, csv_rows(3))
    table = table_of(setup)
    with as_role("web"):
        refused_call(
            lambda: zones.read_rows(schema=table.schema, table=table.table_name, keys=[["A0001"]])
        )
    with as_role("web"):
        refused_call(
            lambda: zones.read_page(
                schema=table.schema,
                table=table.table_name,
                after=None,
                backwards=False,
                prefix="A%",
                limit=5,
            )
        )


def test_counts_come_masked_for_a_masked_column(restricted):
    table = table_of(restricted)
    with as_role("web"):
        checked, failing, samples = zones.read_count(
            schema=table.schema, table=table.table_name, column="full_name", accepted=["姓名1"]
        )
    assert (checked, failing) == (12, 11)
    assert samples and all(v.startswith("姓*") for v, _n in samples)


# --- the pages still work -----------------------------------------------------------------------


def test_the_preview_of_a_zone_resource_shows_masked_rows(restricted):
    response = client(restricted.agency.staff).get(
        reverse("aggregation:preview", args=[restricted.resource.pk])
    )
    assert response.status_code == 200
    page = response.context["page"]
    assert len(page.rows) == 12 and page.rows[1][1] == "姓*2"
    assert "姓名2" not in response.text
    nxt = selectors.preview_page(table_of(restricted), user=restricted.agency.staff, limit=5)
    assert nxt.next_cursor
    second = selectors.preview_page(
        table_of(restricted), user=restricted.agency.staff, after=nxt.next_cursor, limit=5
    )
    assert [r[0] for r in second.rows] == ["A0006", "A0007", "A0008", "A0009", "A0010"]


def test_an_incremental_load_merges_into_the_zone_table(db):
    setup = make_channel(items=masked_items(), grade="L4", update_mode="incremental")
    assert load(setup, csv_rows(5)).status == Batch.Status.SUCCEEDED
    batch = services.batch_upload(
        channel=setup.channel,
        uploaded=__import__(
            "django.core.files.uploadedfile", fromlist=["SimpleUploadedFile"]
        ).SimpleUploadedFile("more.csv", csv_rows(3, start=10).encode()),
        acting_user=setup.agency.staff,
        mode="incremental",
    )
    batch = services.batch_run(batch_id=batch.pk)
    assert batch.status == Batch.Status.SUCCEEDED, batch.error
    table = table_of(setup)
    assert table.schema == "datastore_sensitive" and table.row_count == 8


# --- copies of zone data follow the zone ---------------------------------------------------------


def test_pushed_rows_of_a_zone_resource_are_kept_sealed(db):
    import json

    from aggregation import push
    from aggregation.models import PushChunk
    from tests.aggregation.test_push import people

    setup = make_channel(items=masked_items(), grade="L3", kind="push")
    batch = push.push_demo_rows(channel=setup.channel, batch_id="zone-1", rows=people(40))
    chunks = list(PushChunk.objects.filter(batch=batch))
    assert chunks and all(set(c.rows) == {"sealed"} for c in chunks)
    assert all("人1" not in json.dumps(c.rows, ensure_ascii=False) for c in chunks)
    assert services.batch_run(batch_id=batch.pk).status == Batch.Status.SUCCEEDED
    assert table_of(setup).row_count == 40


def test_pushed_rows_of_a_general_resource_are_kept_as_sent(db):
    from aggregation import push
    from aggregation.models import PushChunk
    from tests.aggregation.test_push import people

    setup = make_channel(kind="push")
    batch = push.push_demo_rows(channel=setup.channel, batch_id="general-1", rows=people(3))
    assert PushChunk.objects.get(batch=batch).rows == people(3)


def test_quality_sample_keys_of_a_masked_key_are_kept_masked(db):
    from aggregation.models import QualityRule
    from aggregation.quality import services as quality
    from tests.aggregation.quality.factories import result, run_now
    from tests.catalog.factories import make_city_bureau

    items = items_people()
    items[0]["masking_rule"] = "保留首尾"  # the key, code
    setup = make_channel(items=items, grade="L3")
    load(setup, csv_rows(6))
    quality.quality_rule_create(
        resource=setup.resource,
        name="年龄不超过0",
        dimension="accuracy",
        kind=QualityRule.Kind.RANGE,
        data={"column": "age", "min": "0", "max": "0"},
        acting_user=make_city_bureau().reviewer,
    )
    run = run_now(setup.resource)  # in the zone, as the zone's role
    found = result(run, QualityRule.Kind.RANGE, "age")
    assert found.rows_failed == 6 and found.sample_keys
    assert all(k.startswith("A") and "*" in k and "000" not in k for k in found.sample_keys)


# --- a grade change moves the table, when confirmed ---------------------------------------------


def confirm(setup, by=None) -> None:
    """The provider confirms (a move down, the security administrator `by`); the worker's
    job (run here) moves the table."""
    if by is not None:
        job = services.datastore_zone_move_confirm(
            resource=setup.resource, confirm=True, acting_user=by
        )
    else:
        job = services.datastore_confirm_changes(
            resource=setup.resource, confirm=True, acting_user=setup.agency.staff
        )
    assert job.task_name == "aggregation.datastore_rebuild"
    assert services.datastore_rebuild(**job.kwargs) is not None


def test_a_grade_change_moves_the_table_when_confirmed(restricted):
    version = restricted.resource.published_version
    version.grade = grade("L2")
    version.save(update_fields=["grade"])
    table = datastore_ensure(resource=restricted.resource)
    assert {"action": "zone", "from": "restricted", "to": "general"} in table.pending_changes
    assert table.schema == "datastore_restricted"  # nothing moves unconfirmed
    page = client(restricted.agency.staff).get(
        reverse("aggregation:channel-detail", args=[restricted.channel.pk])
    )
    assert "Move the table from the Restricted zone to the General zone" in page.text
    refused_load = load(restricted, csv_rows(2))
    assert refused_load.status == Batch.Status.FAILED
    with pytest.raises(DomainError):
        services.datastore_confirm_changes(
            resource=restricted.resource, confirm=False, acting_user=restricted.agency.staff
        )
    generation = table.generation
    with pytest.raises(DomainError):  # a move down: the security administrator's to confirm
        services.datastore_confirm_changes(
            resource=restricted.resource, confirm=True, acting_user=restricted.agency.staff
        )
    admin = security_admin()
    confirm(restricted, by=admin)
    table = table_of(restricted)
    assert table.schema == "datastore" and table.row_count == 12
    assert table.generation == generation + 1 and table.pending_changes == []
    assert table.history.first().schema == "datastore"
    assert table.history.first().history_user == admin
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'datastore_restricted' "
            "AND tablename LIKE %s",
            [f"r{restricted.resource.pk}\\_%"],
        )
        assert cur.fetchone()[0] == 0
        cur.execute(
            "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'datastore_restricted' AND p.proname LIKE %s",
            [f"r{restricted.resource.pk}\\_%"],
        )
        assert cur.fetchone()[0] == 0
    page = selectors.preview_page(table, user=restricted.agency.staff)
    assert len(page.rows) == 12 and page.rows[0][1] == "姓*1"


def test_a_move_up_to_the_sensitive_zone(restricted):
    version = restricted.resource.published_version
    version.grade = grade("L4")
    version.save(update_fields=["grade"])
    datastore_ensure(resource=restricted.resource)
    confirm(restricted)
    table = table_of(restricted)
    assert table.schema == "datastore_sensitive" and table.row_count == 12
    with as_role("web"):
        refused(sql.SQL("SELECT * FROM {}").format(qualified(table)))


# --- through the real worker --------------------------------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_loads_a_zone_table_as_the_zone_role(
    celery_worker, celery_app_on_spare_redis
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.catalog.conftest import ensure_catalog_base_data
    from tests.services import wait_for

    ensure_catalog_base_data()
    setup = make_channel(items=masked_items(), grade="L4", name="敏感通道")
    with transaction.atomic():
        batch = services.batch_upload(
            channel=setup.channel,
            uploaded=SimpleUploadedFile("data.csv", csv_rows(30).encode()),
            acting_user=setup.agency.staff,
        )

    def finished():
        batch.refresh_from_db()
        return batch.status in (Batch.Status.SUCCEEDED, Batch.Status.FAILED)

    try:
        wait_for(finished, timeout=90, interval=0.5, what="zone batch loaded")
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n--- worker ---\n{celery_worker.log_tail()}") from None
    assert batch.status == Batch.Status.SUCCEEDED, (batch.error, celery_worker.log_tail())
    table = table_of(setup)
    assert table.schema == "datastore_sensitive" and table.row_count == 30
    with connection.cursor() as cur:
        cur.execute(
            "SELECT tableowner FROM pg_tables WHERE schemaname = %s AND tablename = %s",
            [table.schema, table.table_name],
        )
        assert cur.fetchone()[0] == role_name("zone_sensitive")
    page = selectors.preview_page(table, user=setup.agency.staff)
    assert len(page.rows) == 30 and page.rows[0][1] == "姓*1"


def test_the_command_makes_missing_read_functions(restricted):
    import io

    from django.core.management import call_command

    table = table_of(restricted)
    with connection.cursor() as cur:
        cur.execute(
            sql.SQL("DROP FUNCTION {}.{}").format(
                sql.Identifier(table.schema), sql.Identifier(f"{table.table_name}_page")
            )
        )
    DatastoreTable.objects.filter(pk=table.pk).update(read_masked=None)  # as before the upgrade
    out = io.StringIO()
    call_command("datastore_read_functions", stdout=out)
    assert f"{table.schema}.{table.table_name}" in out.getvalue()
    page = selectors.preview_page(table_of(restricted), user=restricted.agency.staff)
    assert len(page.rows) == 12 and page.rows[0][1] == "姓*1"
    out = io.StringIO()
    call_command("datastore_read_functions", stdout=out)
    assert "0 table(s)" in out.getvalue()
