"""A masking change remakes the read functions of the tables it touches (issue #13, item 2 and
5; aggregation/readfunctions.py): a changed rule, a data element's rule set, a new published
version queue the durable job `aggregation.read_functions_remake` for exactly the tables
concerned, and the job (run here, and once through a real worker) makes functions that mask
with the new rule, as the zone's role."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from aggregation.models import Batch, DatastoreTable
from aggregation.readfunctions import TASK, read_functions_remake
from security import zones
from security.masking.models import MaskingRule
from security.masking.services import masking_rule_create, masking_rule_update
from tests.aggregation.factories import items_people, make_channel, security_admin
from tests.aggregation.test_views import csv_rows, load
from tests.security.test_zones import as_role
from wuhan_pdr.kernel.models import BackgroundJob


def rule_named(name: str, admin) -> MaskingRule:
    return masking_rule_create(
        acting_user=admin, name=name, method="keep_ends", keep_first=1, keep_last=1
    )


def masked_by(rule_name: str) -> list[dict]:
    items = items_people()
    items[1]["masking_rule"] = rule_name  # full_name
    return items


def names_shown(table: DatastoreTable) -> list[str]:
    """The full_name column of the first page, as the web role reads it."""
    table.refresh_from_db()
    with as_role("web"):
        rows = zones.read_page(
            schema=table.schema,
            table=table.table_name,
            after=None,
            backwards=False,
            prefix=None,
            limit=3,
        )
    return [r[1] for r in rows]


def jobs() -> list[BackgroundJob]:
    return list(BackgroundJob.objects.filter(task_name=TASK).order_by("created_at"))


@pytest.fixture
def admin(db):
    return security_admin()


@pytest.fixture
def zoned(admin):
    """An L3 resource (restricted zone) whose names follow a rule of its own, 3 rows loaded;
    and a general resource beside it that uses no rule."""
    rule = rule_named("测试规则甲", admin)
    setup = make_channel(items=masked_by(rule.name), grade="L3", name="受限通道")
    assert load(setup, csv_rows(3)).status == Batch.Status.SUCCEEDED
    other = make_channel(name="普通通道")
    assert load(other, csv_rows(2)).status == Batch.Status.SUCCEEDED
    return rule, setup, other


def test_a_rule_change_queues_the_remake_of_the_tables_using_it(zoned, admin):
    rule, setup, other = zoned
    table = DatastoreTable.objects.get(resource=setup.resource)
    assert table.schema == "datastore_restricted"
    assert names_shown(table) == ["姓*1", "姓*2", "姓*3"]
    before = len(jobs())

    masking_rule_update(rule=rule, acting_user=admin, method="replace", replacement="###")

    queued = jobs()[before:]
    assert len(queued) == 1
    assert queued[0].kwargs == {"table_ids": [table.pk]}  # not the general table's
    assert queued[0].created_by == admin
    table.refresh_from_db()
    assert not _current(table)

    assert read_functions_remake(**queued[0].kwargs) == 1
    assert names_shown(table) == ["###", "###", "###"]  # masked in SQL by the new rule
    assert _current(table)
    with connection.cursor() as cur:  # made again as the zone's role, in the zone's schema
        cur.execute(
            "SELECT pg_get_userbyid(p.proowner) FROM pg_proc p JOIN pg_namespace n "
            "ON n.oid = p.pronamespace WHERE n.nspname = %s AND p.proname = %s",
            [table.schema, f"{table.table_name}_page"],
        )
        assert cur.fetchone()[0] == zones.zone_role_name("restricted")
    # Idempotent: run again, nothing to remake.
    assert read_functions_remake(**queued[0].kwargs) == 0


def test_a_rule_nobody_uses_queues_nothing(zoned, admin):
    before = len(jobs())
    lonely = rule_named("无人使用", admin)
    masking_rule_update(rule=lonely, acting_user=admin, method="replace")
    assert len(jobs()) == before


def test_a_refused_change_queues_nothing(zoned, staff_a):
    from wuhan_pdr.kernel.errors import AccessDenied

    rule, _setup, _other = zoned
    before = len(jobs())
    with pytest.raises(AccessDenied), transaction.atomic():
        masking_rule_update(rule=rule, acting_user=staff_a, method="replace")
    assert len(jobs()) == before


def test_an_element_rule_set_remakes_the_tables_of_items_following_it(admin):
    from catalog.standards.services import element_masking_rule_set
    from tests.catalog.factories import make_agency, make_city_bureau
    from tests.standards.factories import make_element

    agency = make_agency()
    element = make_element(agency, make_city_bureau().reviewer, name="姓名", format="c..50")
    items = items_people()
    items[1]["element"] = element
    setup = make_channel(agency=agency, items=items, grade="L3")
    assert load(setup, csv_rows(2)).status == Batch.Status.SUCCEEDED
    table = DatastoreTable.objects.get(resource=setup.resource)
    assert names_shown(table) == ["姓名1", "姓名2"]  # no rule yet: in clear
    before = len(jobs())

    element_masking_rule_set(
        element=element, rule=MaskingRule.objects.get(name="保留首尾"), acting_user=admin
    )

    queued = jobs()[before:]
    assert [j.kwargs for j in queued] == [{"table_ids": [table.pk]}]
    read_functions_remake(**queued[0].kwargs)
    assert names_shown(table) == ["姓*1", "姓*2"]


def test_a_table_gone_since_is_passed_over(zoned):
    _rule, setup, _other = zoned
    assert read_functions_remake(table_ids=[10**9]) == 0


def _current(table: DatastoreTable) -> bool:
    from aggregation.datastore import read_functions_current

    return read_functions_current(table)


# --- through the real worker --------------------------------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_remakes_the_functions_after_a_rule_change(
    celery_worker, celery_app_on_spare_redis
):
    from tests.catalog.conftest import ensure_catalog_base_data
    from tests.services import wait_for

    ensure_catalog_base_data()
    admin = security_admin()
    rule = rule_named("测试规则乙", admin)
    setup = make_channel(items=masked_by(rule.name), grade="L4", name="敏感通道")
    assert load(setup, csv_rows(3)).status == Batch.Status.SUCCEEDED
    table = DatastoreTable.objects.get(resource=setup.resource)
    assert table.schema == "datastore_sensitive"

    with transaction.atomic():
        masking_rule_update(rule=rule, acting_user=admin, method="replace", replacement="~~~")
    job = BackgroundJob.objects.get(task_name=TASK)

    def finished():
        job.refresh_from_db()
        return job.state in ("done", "failed")

    try:
        wait_for(finished, timeout=90, interval=0.5, what="read functions remade")
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n--- worker ---\n{celery_worker.log_tail()}") from None
    assert job.state == "done", (job.last_error, celery_worker.log_tail())
    assert names_shown(table) == ["~~~", "~~~", "~~~"]
