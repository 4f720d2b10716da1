"""Each evaluation indicator on crafted records: one agency with two records of each kind (one
that counts, one that does not), and one agency with nothing to count. The period is the first
half of 2026; 2026-03-02 is a Monday and 2026-03-09 the Monday after (5 working days)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from aggregation.models import (
    Batch,
    Channel,
    DowntimeReport,
    Objection,
    QualityIssue,
    QualityRule,
    QualityRun,
)
from authorization.sharing.models import ShareRequest
from catalog.filing.models import InformationSystem
from catalog.models import CatalogFeedback
from registration.applications.demo import _one
from registration.applications.models import Registration
from security.assessments.models import Assessment
from supervision.evaluation import services
from supervision.evaluation.indicators import all_indicators
from supervision.evaluation.models import (
    AgencyScore,
    EvaluationRun,
    IndicatorFigures,
    IndicatorValue,
)
from tests.aggregation.factories import make_channel
from tests.catalog.factories import make_agency, make_city_bureau
from tests.registration.applications.conftest import make_registrar
from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.kernel.workdays import SHANGHAI, working_days_between

START, END = dt.date(2026, 1, 1), dt.date(2026, 6, 30)
MON, NEXT_MON = dt.date(2026, 3, 2), dt.date(2026, 3, 9)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=SHANGHAI)


@pytest.fixture
def world(db):
    """Agency A with records of every kind; agency B with none."""
    a = make_channel()
    second = make_channel(agency=a.agency)
    b = make_agency()
    city = make_city_bureau()
    user = a.agency.staff
    for s in (a, second):
        s.resource.published_version.__class__.objects.filter(
            pk=s.resource.published_version_id
        ).update(update_cycle="monthly", published_at=at(dt.date(2025, 12, 1)))

    # Census: two systems in use, one linked to a published resource; one retired (ignored).
    def system(name, status="in_use"):
        return InformationSystem.objects.create(
            organization=a.agency.org,
            name=name,
            purpose="业务办理",
            status=status,
            contact_name="张三",
            contact_phone="027-12345678",
            created_by=user,
        )

    s1, _s2 = system("审批系统"), system("档案系统")
    system("旧系统", status="retired")
    InformationSystem.objects.filter(organization=a.agency.org).update(created_at=at(START))
    s1.resources.add(a.resource)
    a.channel.__class__.objects.filter(pk=a.channel.pk).update(information_system=s1)

    # Loads: the first resource loaded 10 days before the end (on time for monthly), the
    # second three months before (late); a failed batch inside a downtime window, one outside.
    def batch(channel, status, when):
        b_ = Batch.objects.create(channel=channel, mode="full", status=status)
        Batch.objects.filter(pk=b_.pk).update(
            created_at=when, started_at=when, finished_at=when + dt.timedelta(minutes=5)
        )
        return b_

    batch(a.channel, "succeeded", at(END - dt.timedelta(days=10)))
    batch(second.channel, "succeeded", at(dt.date(2026, 3, 31)))
    batch(a.channel, "failed", at(MON, 11))
    batch(a.channel, "failed", at(NEXT_MON, 11))
    DowntimeReport.objects.create(
        information_system=s1,
        kind="outage",
        starts_at=at(MON, 9),
        ends_at=at(MON, 12),
        description="机房断电",
        reported_by=user,
    )

    # Quality runs: 80 and 90 in the period, 10 before it (ignored).
    for score, day in ((80, MON), (90, NEXT_MON), (10, dt.date(2025, 12, 1))):
        q = QualityRun.objects.create(
            resource=a.resource, trigger="manual", status="done", score=Decimal(score)
        )
        QualityRun.objects.filter(pk=q.pk).update(finished_at=at(day))

    # Quality issues on Monday: one answered (fixed) the Monday after, one never answered.
    for n, answered in enumerate((True, False)):
        rule = QualityRule.objects.create(
            resource=a.resource,
            name=f"规则{n}",
            dimension="completeness",
            kind="not_null",
            column="full_name",
            created_by=user,
        )
        i = QualityIssue.objects.create(resource=a.resource, rule=rule, provider=a.agency.org)
        QualityIssue.objects.filter(pk=i.pk).update(
            created_at=at(MON),
            answer="fixed" if answered else "",
            answered_at=at(NEXT_MON) if answered else None,
            state="answered" if answered else "open",
        )

    # Objections: one handled on time, one flagged overdue.
    for flagged in (None, NEXT_MON):
        o = Objection.objects.create(
            resource=a.resource, requester=city.reviewer, kind="error", description="有误"
        )
        Objection.objects.filter(pk=o.pk).update(created_at=at(MON), overdue_flagged_on=flagged)

    # Catalog feedback: proposed two working days after it was reported.
    fb = CatalogFeedback.objects.create(
        provider=a.agency.org,
        resource=a.resource,
        kind="error",
        description="字段有误",
        requester=city.reviewer,
    )
    fb.state = CatalogFeedback.State.ADJUSTMENT_PROPOSED
    fb.save()
    CatalogFeedback.objects.filter(pk=fb.pk).update(created_at=at(MON))
    CatalogFeedback.history.model.objects.filter(id=fb.pk, state="adjustment_proposed").update(
        history_date=at(MON + dt.timedelta(days=2))
    )

    # Share requests to A: granted after 2 working days, refused after 5; one withdrawn.
    version = a.resource.published_version
    for state, decided in (
        ("granted", MON + dt.timedelta(days=2)),
        ("refused", NEXT_MON),
        ("withdrawn", None),
    ):
        r = ShareRequest.objects.create(
            resource=a.resource,
            version=version,
            provider=a.agency.org,
            requester=b.org,
            requested_by=b.staff,
            share_type="conditional",
            scenario="核验",
            basis_kind="duty",
            duty="职责",
            purpose="核验",
            period_start=START,
            period_end=END,
            expected_daily_rows=10,
            state=state,
        )
        ShareRequest.objects.filter(pk=r.pk).update(
            created_at=at(MON), decided_at=at(decided) if decided else None
        )

    # Security: the second channel's assessment revoked.
    Assessment.objects.filter(subject_kind="channel", subject_id=str(second.channel.pk)).update(
        revoked_at=at(MON)
    )
    # Registration (Art. 23): both resources in the operation scope, the first registered
    # before the run's day through the registration procedure, the second not.
    for s_ in (a, second):
        s_.resource.published_version.__class__.objects.filter(
            pk=s_.resource.published_version_id
        ).update(operation_eligible=True)
    _one(
        user,
        make_registrar(),
        Registration.Kind.RESOURCE,
        a.resource.published_version.name,
        Registration.State.REGISTERED,
    )
    assert Registration.objects.filter(resource=a.resource).update(registered_at=at(MON)) == 1
    return {"a": a.agency.org, "b": b.org, "city": city}


def _plan(world):
    weights = {i.key: 0 for i in all_indicators()}
    keys = list(weights)
    share, rest = divmod(100, len(keys))
    weights = {k: share + (1 if n < rest else 0) for n, k in enumerate(keys)}
    plan = services.plan_create(
        name="测试方案",
        period_start=START,
        period_end=END,
        weights=weights,
        acting_user=world["city"].reviewer,
    )
    return EvaluationRun.objects.create(
        plan=plan, number=1, as_of=END, created_by=world["city"].reviewer
    )


def _run(world) -> EvaluationRun:
    return services.run_compute(run_id=_plan(world).pk)


def test_every_indicator_on_crafted_records(world, django_assert_max_num_queries):
    pending = _plan(world)
    with django_assert_max_num_queries(70):
        run = services.run_compute(run_id=pending.pk)
    values = {v.key: v for v in IndicatorValue.objects.filter(run=run, agency=world["a"])}
    late = working_days_between(MON, END)

    def check(key, num, den, measure, score):
        v = values[key]
        assert (v.numerator, v.denominator) == (Decimal(num), Decimal(den)), key
        assert v.measure == Decimal(measure).quantize(Decimal("0.01")), key
        assert v.score == Decimal(score).quantize(Decimal("0.01")), key

    check("catalog_coverage", 1, 2, 50, 50)
    check("aggregation_on_time", 1, 2, 50, 50)
    check("quality_score", 170, 2, 85, 85)
    check("issue_rectification_rate", 1, 2, 50, 50)
    mean = Decimal(5 + late) / 2
    check(
        "issue_rectification_days",
        5 + late,
        2,
        mean,
        max(0, min(100, 100 - 10 * max(0, mean.quantize(Decimal("0.01")) - 10))),
    )
    check("objection_on_time", 1, 2, 50, 50)
    check("feedback_response_days", 2, 1, 2, 100)
    check("share_response_days", 7, 2, Decimal("3.5"), 100)
    check("share_refusal_rate", 1, 2, 50, 50)
    check("downtime_reported", 1, 2, 50, 50)
    check("security_current", 1, 2, 50, 50)
    check("operation_registered", 1, 2, 50, 50)


def test_an_agency_with_nothing_to_count_gets_no_score_and_no_rank(world):
    run = _run(world)
    for v in IndicatorValue.objects.filter(run=run, agency=world["b"]):
        assert v.denominator == 0 and v.measure is None and v.score is None, v.key
    b = AgencyScore.objects.get(run=run, agency=world["b"])
    assert b.computed is None and b.final is None and b.rank is None
    a = AgencyScore.objects.get(run=run, agency=world["a"])
    assert a.rank == 1 and a.computed is not None


def test_the_drill_down_lists_exactly_the_records_counted(world):
    from supervision.evaluation.indicators import indicator
    from supervision.evaluation.selectors import records_behind

    run = _run(world)
    for v in IndicatorValue.objects.filter(run=run, agency=world["a"]):
        rows = records_behind(indicator(v.key), run, world["a"].pk)
        assert sum(Decimal(r["den"]) for r in rows) == v.denominator, v.key
        assert sum(Decimal(r["num"]) for r in rows) == v.numerator, v.key
        assert records_behind(indicator(v.key), run, world["b"].pk) == []


def test_a_run_is_one_statement_per_indicator(world):
    """Set-based: one statement per indicator (its figures computed and stored by the server),
    whatever the number of agencies."""
    from django.test.utils import CaptureQueriesContext

    for _ in range(5):
        make_agency()
    with CaptureQueriesContext(connection) as ctx:
        run = _run(world)
    stores = [
        q for q in ctx.captured_queries if "INSERT INTO supervision_indicatorfigures" in q["sql"]
    ]
    assert len(stores) == len(all_indicators())
    assert all("WITH rec AS" in q["sql"] for q in stores)
    assert IndicatorValue.objects.filter(run=run).count() == len(all_indicators()) * (
        Organization.objects.filter(kind__in=Organization.AGENCY_KINDS, is_active=True).count()
    )
    assert run.state == EvaluationRun.State.DONE


def test_a_run_stores_a_row_of_figures_per_indicator_read_per_agency(world):
    """Storage (decision 0036): one row of parallel arrays per indicator, in agency order;
    IndicatorValue reads it as one row per agency and indicator, the same figures."""
    for _ in range(3):
        make_agency()
    run = _run(world)
    agencies = sorted(
        Organization.objects.filter(kind__in=Organization.AGENCY_KINDS, is_active=True).values_list(
            "pk", flat=True
        )
    )
    rows = list(IndicatorFigures.objects.filter(run=run))
    assert sorted(f.key for f in rows) == sorted(i.key for i in all_indicators())
    stored = {}
    for f in rows:
        assert f.agencies == agencies, f.key
        assert len(f.numerators) == len(f.denominators) == len(f.measures) == len(agencies)
        assert len(f.scores) == len(agencies)
        for agency, n, d, m, sc in zip(
            f.agencies, f.numerators, f.denominators, f.measures, f.scores, strict=True
        ):
            stored[f.key, agency] = (n, d, m, sc)
    read = {
        (v.key, v.agency_id): (v.numerator, v.denominator, v.measure, v.score)
        for v in IndicatorValue.objects.filter(run=run)
    }
    assert read == stored
    assert len(read) == len(all_indicators()) * len(agencies)
    a = IndicatorValue.objects.get(run=run, key="quality_score", agency=world["a"])
    assert (a.numerator, a.denominator) == (Decimal(170), Decimal(2))


def test_a_runs_deletion_takes_its_figures_and_an_agency_with_figures_is_protected(world):
    from django.db.models import ProtectedError
    from django.db.models.deletion import Collector

    run = _run(world)
    with pytest.raises(ProtectedError) as refused:
        Collector(using="default").collect([world["b"]])
    assert any(isinstance(o, IndicatorValue) for o in refused.value.protected_objects)
    pk = run.pk
    run.delete()
    assert not IndicatorFigures.objects.filter(run_id=pk).exists()
    assert not IndicatorValue.objects.filter(run_id=pk).exists()
    assert not AgencyScore.objects.filter(run_id=pk).exists()


def test_the_local_date_offset_is_shanghais_for_every_day_since_1992(db):
    """Indicators take a record's local date at a fixed +08:00 (cheaper than the zone name):
    the time-zone database must agree for every day from 1992 on (no daylight saving time)."""
    from supervision.evaluation.indicators import SHANGHAI_OFFSET, _local_date

    hours, minutes = SHANGHAI_OFFSET.lstrip("+").split(":")
    offset = dt.timedelta(hours=int(hours), minutes=int(minutes))
    day = dt.datetime(1992, 1, 1, 12)
    while day.year < 2100:
        assert SHANGHAI.utcoffset(day) == offset, day
        day += dt.timedelta(days=1)
    # And the SQL gives the same day as the named zone around midnight.
    with connection.cursor() as cur:
        for instant in (at(MON, 0), at(MON, 23), at(END, 0) - dt.timedelta(seconds=1)):
            cur.execute(
                f"SELECT {_local_date('%s::timestamptz')}, "
                "(%s::timestamptz AT TIME ZONE 'Asia/Shanghai')::date",
                [instant, instant],
            )
            ours, named = cur.fetchone()
            assert ours == named == instant.date(), instant


def test_outages_count_the_start_not_the_end_and_never_a_cancelled_report(world):
    """The outage spans are [start, end): a failed load at a report's start is covered, one at
    its end is not; overlapping reports cover their union; a cancelled report covers nothing."""
    from django.utils import timezone

    from supervision.evaluation.indicators import indicator
    from supervision.evaluation.selectors import records_behind

    channel = Channel.objects.filter(
        resource__provider=world["a"], information_system__isnull=False
    ).first()
    system = channel.information_system
    day = dt.date(2026, 4, 6)

    def report(start, end, cancelled=False):
        DowntimeReport.objects.create(
            information_system=system,
            kind="outage",
            starts_at=at(day, start),
            ends_at=at(day, end),
            description="检修",
            reported_by=world["city"].reviewer,
            cancelled_at=timezone.now() if cancelled else None,
        )

    report(8, 10)
    report(9, 12)  # overlaps the first
    report(14, 18, cancelled=True)
    covered = {}
    for hour in (8, 11, 12, 15):
        b_ = Batch.objects.create(channel=channel, mode="full", status="failed")
        Batch.objects.filter(pk=b_.pk).update(created_at=at(day, hour), started_at=at(day, hour))
        covered[str(b_.pk)] = hour in (8, 11)
    run = _run(world)
    rows = {
        r["record_id"]: r["num"]
        for r in records_behind(indicator("downtime_reported"), run, world["a"].pk)
    }
    assert {k: rows[k] == 1 for k in covered} == covered


def _figures(run) -> dict:
    return {
        (f.key, tuple(f.agencies)): (f.numerators, f.denominators, f.measures, f.scores)
        for f in IndicatorFigures.objects.filter(run=run)
    }


def _scores(run) -> dict:
    return {s.agency_id: (s.computed, s.final, s.rank) for s in AgencyScore.objects.filter(run=run)}


@pytest.mark.django_db(transaction=True)
def test_a_run_alone_in_its_transaction_computes_on_two_connections_the_same_figures(
    world, settings
):
    """The worker's run (decision 0036): outside any caller's transaction, the indicators are
    computed on two connections in one snapshot; the figures, scores and ranks are those that
    one connection computes."""
    from django.test.utils import CaptureQueriesContext

    settings.SUPERVISION_RUN_CONNECTIONS = 2
    pending = _plan(world)
    with CaptureQueriesContext(connection) as ctx:
        two = services.run_compute(run_id=pending.pk)
    sqls = [q["sql"] for q in ctx.captured_queries]
    assert any("pg_export_snapshot()" in s for s in sqls)
    # What this connection stored itself plus what the second one handed over: every indicator.
    assert IndicatorFigures.objects.filter(run=two).count() == len(all_indicators())
    assert two.state == EvaluationRun.State.DONE

    settings.SUPERVISION_RUN_CONNECTIONS = 1
    again = EvaluationRun.objects.create(
        plan=two.plan, number=2, as_of=END, created_by=world["city"].reviewer
    )
    with CaptureQueriesContext(connection) as ctx:
        one = services.run_compute(run_id=again.pk)
    assert not any("pg_export_snapshot()" in q["sql"] for q in ctx.captured_queries)
    assert _figures(two) == _figures(one)
    assert _scores(two) == _scores(one)
    a = IndicatorValue.objects.get(run=two, key="quality_score", agency=world["a"])
    assert (a.numerator, a.denominator) == (Decimal(170), Decimal(2))


@pytest.mark.django_db(transaction=True)
def test_a_failing_indicator_on_two_connections_fails_the_run_and_stores_nothing(world, settings):
    """Atomicity on two connections: an indicator that fails, on either connection, fails the
    run; nothing of it is stored and an earlier run keeps its figures."""
    from supervision.evaluation import indicators

    settings.SUPERVISION_RUN_CONNECTIONS = 2
    earlier = services.run_compute(run_id=_plan(world).pk)
    before = _figures(earlier)
    broken = indicators.Indicator(
        key="test_broken",
        label="broken",
        description="-",
        kind="rate",
        records="""
SELECT o.id AS agency_id, o.id::text AS record_id, o.name AS label,
       1 / (o.id - o.id) AS num, 1 AS den, now() AS at
FROM accounts_organization o
""",
    )
    indicators.register_indicator(broken)
    try:
        keys = [i.key for i in all_indicators()]
        weights = {k: 100 // len(keys) for k in keys}
        weights[keys[0]] += 100 - sum(weights.values())
        plan = services.plan_create(
            name="失败方案",
            period_start=START,
            period_end=END,
            weights=weights,
            acting_user=world["city"].reviewer,
        )
        run = EvaluationRun.objects.create(
            plan=plan, number=1, as_of=END, created_by=world["city"].reviewer
        )
        with pytest.raises(Exception, match="division by zero"):
            services.run_compute(run_id=run.pk)
    finally:
        indicators._REGISTRY.pop("test_broken", None)
    assert not IndicatorFigures.objects.filter(run=run).exists()
    assert not AgencyScore.objects.filter(run=run).exists()
    assert _figures(earlier) == before
    assert EvaluationRun.objects.get(pk=run.pk).state == EvaluationRun.State.RUNNING
