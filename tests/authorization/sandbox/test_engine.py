"""The aggregate builder's engine (issue #14 item 6): suppression, noise, budget, the zone's
definer function."""

from __future__ import annotations

import pytest
from django.utils import translation

from authorization.sandbox import engine
from authorization.sandbox.models import SandboxQuery
from security.audit.models import AuditEvent
from tests.authorization.sandbox.factories import make_world


@pytest.fixture
def world(db):
    return make_world()


def run(world, spec, epsilon=1.0):
    return engine.query_run(
        session=world.session,
        resource=world.setup.resource,
        spec=spec,
        epsilon=epsilon,
        acting_user=world.requester,
    )


def test_a_small_group_is_suppressed_and_large_ones_released(world):
    query = run(world, {"measure": "count", "groups": ["age"]})
    released = {row[0]: row[1] for row in query.result["rows"]}
    assert set(released) == {"30", "40"}
    assert "50" not in str(query.result["rows"])
    assert query.result["suppressed"] == 1
    # Noisy, but near the truth (scale 1 at epsilon 1).
    assert abs(released["30"] - 25) < 15 and abs(released["40"] - 20) < 15
    assert isinstance(released["30"], int)


def test_the_query_is_recorded_with_its_parameters_and_budget(world):
    query = run(world, {"measure": "sum", "value": "amount", "groups": ["age"]}, epsilon=0.5)
    world.session.refresh_from_db()
    assert world.session.epsilon_spent == pytest.approx(0.5)
    event = AuditEvent.objects.filter(action="sandbox.query").latest("pk")
    assert event.details["query"]["measure"] == "sum"
    assert event.details["epsilon"] == 0.5
    assert event.details["rows"] == 48
    # The small group always; a large one only if its noisy count fell under the minimum.
    assert event.details["groups_suppressed"] >= 1
    assert event.details["groups_suppressed"] + event.details["groups_released"] == 3
    assert SandboxQuery.objects.get(pk=query.pk).epsilon == 0.5


def test_the_budget_is_spent_and_then_refused_with_a_message(db):
    world = make_world(epsilon_total=1.0)
    run(world, {"measure": "count"}, epsilon=0.5)
    run(world, {"measure": "count"}, epsilon=0.5)
    with pytest.raises(engine.QueryRefused) as refused, translation.override("en"):
        run(world, {"measure": "count"}, epsilon=0.1)
    assert refused.value.field == "epsilon"
    assert "privacy budget is spent" in str(refused.value.message)
    world.session.refresh_from_db()
    assert world.session.epsilon_spent == pytest.approx(1.0)
    assert SandboxQuery.objects.filter(session=world.session).count() == 2


def test_a_refused_query_spends_nothing(world):
    with pytest.raises(engine.QueryRefused):
        run(world, {"measure": "count", "groups": ["full_name"]})  # masked
    with pytest.raises(engine.QueryRefused):
        run(world, {"measure": "sum", "value": "age", "groups": ["code"]})  # the key
    world.session.refresh_from_db()
    assert world.session.epsilon_spent == 0
    refusals = AuditEvent.objects.filter(action="sandbox.query", outcome="refused")
    assert refusals.count() == 2


def test_min_and_max_are_not_offered_on_an_identifying_item(db):
    from catalog.models import DataItem
    from tests.catalog.factories import grade

    world = make_world()
    DataItem.objects.filter(
        version_id=world.setup.resource.published_version_id, english_name="amount"
    ).update(grade=grade("L4"))
    with pytest.raises(engine.QueryRefused) as refused:
        run(world, {"measure": "max", "value": "amount"})
    assert refused.value.field == "measure"
    # The mean stays offered (with noise and bounds).
    assert run(world, {"measure": "mean", "value": "amount"}).result["rows"]
    # A non-identifying item offers them.
    top = run(world, {"measure": "max", "value": "age"}).result["rows"][0][-1]
    assert 0 <= top <= 120


def test_sums_need_bounds_declared_for_the_item(db):
    world = make_world()
    world.session.bounds = {}
    world.session.save()
    with pytest.raises(engine.QueryRefused) as refused:
        run(world, {"measure": "sum", "value": "amount"})
    assert refused.value.field == "value"


def test_filters_equal_in_and_range(world):
    eq = run(world, {"measure": "count", "filters": [{"column": "age", "op": "eq", "value": "30"}]})
    assert abs(eq.result["rows"][0][0] - 25) < 15
    many = run(
        world,
        {"measure": "count", "filters": [{"column": "age", "op": "in", "values": ["30", "40"]}]},
    )
    assert abs(many.result["rows"][0][0] - 45) < 15
    ranged = run(
        world, {"measure": "count", "filters": [{"column": "age", "op": "range", "lo": "35"}]}
    )
    assert abs(ranged.result["rows"][0][0] - 23) < 15
    small = run(
        world, {"measure": "count", "filters": [{"column": "age", "op": "range", "lo": "45"}]}
    )
    assert small.result["rows"] == [] and small.result["suppressed"] == 1


def test_naughty_filter_values_are_refused_or_run_never_an_error(world, naughty):
    world.session.epsilon_total = 10_000
    world.session.save()
    for s in naughty[:120]:
        for f in (
            {"column": "age", "op": "eq", "value": s},
            {"column": "age", "op": "in", "values": [s, "30"]},
            {"column": "born", "op": "range", "lo": s},
            {"column": s, "op": "eq", "value": "1"},
        ):
            try:
                run(world, {"measure": "count", "filters": [f]}, epsilon=0.1)
            except engine.QueryRefused as refused:
                assert refused.message


def test_the_function_refuses_a_column_outside_its_allow_list_and_runs_only_with_a_timeout(world):
    from django.db import DatabaseError, connection, transaction
    from psycopg import sql

    from aggregation.models import DatastoreTable
    from authorization.sandbox.functions import aggregate_call, aggregate_name

    table = DatastoreTable.objects.get(resource=world.setup.resource)
    common = dict(
        schema=table.schema,
        table=table.table_name,
        measure="count",
        value=None,
        filters=[],
        lo=None,
        hi=None,
        max_groups=100,
        max_rows=1000,
        timeout_ms=2000,
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        aggregate_call(groups=["full_name"], **common)  # masked
    with pytest.raises(DatabaseError), transaction.atomic():
        aggregate_call(groups=['age"; DROP TABLE x; --'], **common)
    with pytest.raises(DatabaseError), transaction.atomic():
        aggregate_call(groups=["age"], **{**common, "max_groups": 2})  # three groups
    with pytest.raises(DatabaseError), transaction.atomic():
        aggregate_call(groups=[], **{**common, "max_rows": 10})  # 48 rows
    assert len(aggregate_call(groups=["age"], **common)) == 3
    fn = sql.SQL("{}.{}").format(
        sql.Identifier(table.schema), sql.Identifier(aggregate_name(table.table_name))
    )
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL statement_timeout = 0")
        cur.execute(
            sql.SQL(
                "SELECT * FROM {}('count', NULL, '{{}}', '{{}}', '{{}}', '{{}}', NULL, NULL, 10, 10)"
            ).format(fn)
        )


def test_the_web_role_runs_the_function_on_a_restricted_table_it_cannot_select(world):
    from django.db import DatabaseError, connection, transaction
    from psycopg import sql

    from aggregation.datastore import qualified
    from aggregation.models import DatastoreTable
    from authorization.sandbox.functions import aggregate_call
    from security.dbroles import role_name

    table = DatastoreTable.objects.get(resource=world.setup.resource)
    assert table.schema == "datastore_restricted"
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role_name("web"))))
        found = aggregate_call(
            schema=table.schema,
            table=table.table_name,
            measure="sum",
            value="amount",
            groups=["age"],
            filters=[("age", "ge", "30")],
            lo=0,
            hi=5000,
            max_groups=100,
            max_rows=1000,
            timeout_ms=2000,
        )
        assert [(r[0], r[3]) for r in found] == [("30", 25), ("40", 20), ("50", 3)]
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql.SQL("SELECT count(*) FROM {}").format(qualified(table)))
        transaction.set_rollback(True)


def test_groups_by_up_to_three_items_never_four(world):
    query = run(world, {"measure": "count", "groups": ["age", "born", "updated_at"]})
    assert query.result["groups"] == ["age", "born", "updated_at"]
    with pytest.raises(engine.QueryRefused) as refused:
        run(world, {"measure": "count", "groups": ["age", "born", "updated_at", "amount"]})
    assert refused.value.field == "groups"
    world.session.refresh_from_db()
    assert world.session.epsilon_spent == pytest.approx(1.0)  # the refused one spent nothing
