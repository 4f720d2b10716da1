"""Each rule kind on crafted data catches exactly the bad rows planted for it; scores per
rule, dimension and run; the whole table read in one scan for the per-row rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aggregation.models import Batch, DowntimeReport, QualityRule
from aggregation.quality import services as quality
from aggregation.quality.rules import format_check
from tests.aggregation.factories import make_channel
from tests.catalog import factories as cf
from tests.catalog.factories import make_city_bureau
from tests.catalog.filing.conftest import make_system
from wuhan_pdr.kernel.errors import DomainError

from .factories import (
    SHARED_OPEN_L1,
    code_list,
    element,
    execute,
    load,
    published_channel,
    result,
    run_now,
)

K = QualityRule.Kind


@pytest.fixture
def area_element(db):
    return element(name="行政区划代码", format="n6")


@pytest.fixture
def areas(area_element):
    """The referenced resource: two districts, keyed by a code bound to the area element,
    shared and open unconditionally (so the provider of `people` may see its keys and the
    reference rule's result: test_reference_rights.py has the other case)."""
    setup = published_channel(
        cf.make_agency(),
        fields=SHARED_OPEN_L1,
        items=[
            {
                "name": "区划代码",
                "english_name": "code",
                "data_type": "C",
                "length": 6,
                "is_key": True,
                "element": area_element,
            },
            {"name": "名称", "english_name": "name", "data_type": "C", "length": 50},
        ],
    )
    load(setup, "区划代码,名称\n420102,江岸区\n420103,江汉区\n")
    return setup


@pytest.fixture
def people(areas, area_element):
    sex = element(name="性别代码", format="n1", code_list=code_list(["0", "1", "2", "9"]))
    phone = element(name="手机号码", format="c..20", pattern=r"1[3-9]\d{9}")
    zip_code = element(name="邮政编码", format="n6")
    items = [
        {"name": "编号", "english_name": "code", "data_type": "C", "length": 20, "is_key": True},
        {
            "name": "姓名",
            "english_name": "full_name",
            "data_type": "C",
            "length": 50,
            "nullable": False,
        },
        {"name": "性别", "english_name": "sex", "data_type": "C", "length": 4, "element": sex},
        {"name": "手机", "english_name": "phone", "data_type": "C", "length": 20, "element": phone},
        {
            "name": "邮编",
            "english_name": "zip",
            "data_type": "C",
            "length": 10,
            "element": zip_code,
        },
        {"name": "年龄", "english_name": "age", "data_type": "I"},
        {
            "name": "区划",
            "english_name": "area",
            "data_type": "C",
            "length": 6,
            "element": area_element,
        },
        {
            "name": "更新时间",
            "english_name": "updated_at",
            "data_type": "T",
            "is_update_flag": True,
        },
    ]
    setup = make_channel(items=items)
    rows = [
        # code, name, sex, phone, zip, age, area, updated
        ("K01", "甲", "1", "13800000001", "430000", "30", "420102", "2099-01-01 00:00:00"),
        ("K02", "乙", "2", "13800000002", "430000", "30", "999999", "2025-01-01 00:00:00"),
        ("K03", "丙", "5", "13800000003", "430000", "30", "420103", "2025-01-01 00:00:00"),
        ("K04", "丁", "男", "13800000004", "430000", "30", "420103", "2025-01-01 00:00:00"),
        ("K05", "戊", "1", "12345", "430000", "30", "420103", "2025-01-01 00:00:00"),
        ("K06", "己", "1", "13800000006", "43000A", "30", "420103", "2025-01-01 00:00:00"),
        ("K07", "庚", "1", "13800000007", "4300001", "30", "420103", "2025-01-01 00:00:00"),
        ("K08", "辛", "1", "13800000008", "430000", "200", "420103", "2025-01-01 00:00:00"),
        ("K09", "壬", "1", "13800000009", "430000", "10", "420103", "2025-01-01 00:00:00"),
        ("K10", "癸", "", "", "", "", "", "2025-01-01 00:00:00"),
    ]
    header = "编号,姓名,性别,手机,邮编,年龄,区划,更新时间\n"
    load(setup, header + "".join(",".join(r) + "\n" for r in rows))
    # Missing names cannot come through the loader (the column is NOT NULL): inject them.
    execute("ALTER TABLE {t} ALTER COLUMN full_name DROP NOT NULL", setup.resource)
    execute("UPDATE {t} SET full_name = NULL WHERE code = 'K05'", setup.resource)
    execute("UPDATE {t} SET full_name = '  ' WHERE code = 'K06'", setup.resource)
    return setup


def failing(res) -> set[str]:
    return set(res.sample_keys)


def test_every_per_row_kind_catches_exactly_the_planted_rows(people):
    bureau = make_city_bureau()
    quality.quality_rule_create(
        resource=people.resource,
        name="年龄在0到150之间",
        dimension="accuracy",
        kind=K.RANGE,
        data={"column": "age", "min": "0", "max": "150"},
        acting_user=bureau.reviewer,
    )
    quality.quality_rule_create(
        resource=people.resource,
        name="成年人",
        dimension="accuracy",
        kind=K.CUSTOM,
        data={"conditions": [{"column": "age", "op": "ge", "value": "18"}], "join": "and"},
        acting_user=bureau.reviewer,
    )
    run = run_now(people.resource)
    assert run.rows == 10
    r = result(run, K.NOT_NULL, "full_name")
    assert (r.rows_checked, r.rows_failed, failing(r)) == (10, 2, {"K05", "K06"})
    assert result(run, K.NOT_NULL, "code").rows_failed == 0
    r = result(run, K.CODE_LIST, "sex")
    assert (r.rows_failed, failing(r)) == (2, {"K03", "K04"})
    formats = {
        (x.rule.column, bool(x.rule.params.get("of_pattern"))): x
        for x in run.results.select_related("rule").filter(rule__kind=K.FORMAT)
    }
    assert failing(formats[("sex", False)]) == {"K04"}
    assert failing(formats[("phone", True)]) == {"K05"}
    assert formats[("phone", False)].rows_failed == 0
    assert failing(formats[("zip", False)]) == {"K06", "K07"}
    assert failing(formats[("area", False)]) == set()
    r = result(run, K.REFERENCE, "area")
    assert (r.rows_failed, failing(r)) == (1, {"K02"})
    r = result(run, K.FUTURE_FLAG, "updated_at")
    assert (r.rows_failed, failing(r)) == (1, {"K01"})
    r = result(run, K.RANGE, "age")
    assert (r.rows_failed, failing(r)) == (1, {"K08"})
    r = result(run, K.CUSTOM)
    assert (r.rows_failed, failing(r)) == (2, {"K09", "K10"})  # empty age fails "age >= 18"
    r = result(run, K.UNIQUE_KEY)
    assert (r.rows_failed, r.passed) == (0, True)
    # Scores: a rule's is its passed share; a dimension's the mean of its rules.
    assert result(run, K.NOT_NULL, "full_name").score == Decimal("80.00")
    assert run.scores["consistency"] == 90.0
    assert Decimal(str(run.scores["completeness"])) == Decimal("90.00")  # 100 and 80
    assert run.score == (
        sum(Decimal(str(v)) for v in run.scores.values()) / len(run.scores)
    ).quantize(Decimal("0.01"))


def test_the_per_row_rules_read_the_table_once(people):
    from aggregation.quality import engine

    rules = quality.quality_rules_sync(resource=people.resource)
    with CaptureQueriesContext(connection) as ctx:
        engine.evaluate(people.resource, rules)
    table_name = people.resource.datastore.table_name
    scans = [q["sql"] for q in ctx.captured_queries if table_name in q["sql"]]
    # one scan for every per-row rule, one statement for the key, and LIMIT queries for
    # the samples of the failing rules only
    assert sum("FILTER" in s for s in scans) == 1
    assert sum("HAVING" in s for s in scans) == 1
    assert all("LIMIT" in s for s in scans if "FILTER" not in s and "HAVING" not in s)


def test_a_code_that_expired_fails_the_code_list(db):
    cl = code_list(["1", "2"])
    cl.values.filter(code="2").update(valid_to=dt.date(2020, 12, 31))
    sex = element(name="性别代码", format="n1", code_list=cl)
    setup = make_channel(
        items=[
            {"name": "编号", "english_name": "code", "data_type": "C", "length": 5, "is_key": True},
            {"name": "性别", "english_name": "sex", "data_type": "C", "length": 1, "element": sex},
        ]
    )
    load(setup, "编号,性别\nA,1\nB,2\n")
    r = result(run_now(setup.resource), K.CODE_LIST, "sex")
    assert (r.rows_failed, r.sample_keys) == (1, ["B"])


def test_key_uniqueness_counts_every_row_of_a_duplicated_key(people):
    execute(
        "ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {t_pkey}".replace(
            "{t_pkey}", f'"{people.resource.datastore.table_name}_pkey"'
        ),
        people.resource,
    )
    execute("INSERT INTO {t} SELECT * FROM {t} WHERE code IN ('K03', 'K04')", people.resource)
    r = result(run_now(people.resource), K.UNIQUE_KEY)
    assert (r.rows_checked, r.rows_failed, r.passed) == (12, 4, False)
    assert set(r.sample_keys) == {"K03", "K04"}


def test_a_table_without_key_is_checked_for_duplicate_rows(db):
    setup = make_channel(
        items=[
            {"name": "名称", "english_name": "name", "data_type": "C", "length": 10},
            {"name": "数量", "english_name": "n", "data_type": "I"},
        ]
    )
    load(setup, "名称,数量\na,1\nb,2\na,1\nc,3\na,1\n")
    r = result(run_now(setup.resource), K.DUPLICATE_ROWS)
    assert (r.rows_checked, r.rows_failed, r.sample_keys) == (5, 3, ["a / 1"])


def test_freshness_follows_the_update_cycle(people):
    run = run_now(people.resource)
    assert result(run, K.FRESHNESS).passed  # monthly, loaded just now
    Batch.objects.filter(channel__resource=people.resource).update(
        finished_at=timezone.now() - dt.timedelta(days=40)
    )
    r = result(run_now(people.resource), K.FRESHNESS)
    assert (r.rows_checked, r.rows_failed, r.passed, r.score) == (1, 1, False, Decimal("0.00"))


def test_failures_inside_a_reported_planned_window_do_not_count_against_stability(people):
    channel = people.channel
    system = make_system(people.agency, name="人员信息系统")
    channel.information_system = system
    channel.save(update_fields=["information_system"])
    now = timezone.now()

    def batch(status, hours_ago):
        b = Batch.objects.create(
            channel=channel,
            mode="full",
            status=status,
            started_at=now - dt.timedelta(hours=hours_ago),
            finished_at=now - dt.timedelta(hours=hours_ago),
        )
        Batch.objects.filter(pk=b.pk).update(created_at=now - dt.timedelta(hours=hours_ago))
        return b

    for h in (50, 40, 30):
        batch(Batch.Status.SUCCEEDED, h)
    batch(Batch.Status.FAILED, 20)  # during planned maintenance
    batch(Batch.Status.FAILED, 10)  # an outage nobody reported
    DowntimeReport.objects.create(
        information_system=system,
        kind=DowntimeReport.Kind.MAINTENANCE,
        starts_at=now - dt.timedelta(hours=21),
        ends_at=now - dt.timedelta(hours=19),
        description="维护",
        reported_by=people.agency.staff,
    )
    run = run_now(people.resource)
    r = result(run, K.SUCCESS_RATE)
    # the load of the fixture, 3 successes, 1 failure counted; the planned one left out
    assert (r.rows_checked, r.rows_failed) == (5, 1)
    assert r.score == Decimal("80.00") and not r.passed
    r = result(run, K.REACHABLE)
    assert (r.rows_checked, r.rows_failed) == (1, 0)  # the latest finished batch succeeded


def test_the_last_batch_failing_makes_the_channel_unreachable(people):
    now = timezone.now()
    Batch.objects.create(
        channel=people.channel,
        mode="full",
        status=Batch.Status.FAILED,
        started_at=now,
        finished_at=now + dt.timedelta(seconds=1),
    )
    r = result(run_now(people.resource), K.REACHABLE)
    assert (r.rows_checked, r.rows_failed, r.sample_keys) == (1, 1, [people.channel.name])


def test_derived_rules_follow_the_items_and_keep_custom_rules(people):
    rules = quality.quality_rules_sync(resource=people.resource)
    kinds = {(r.kind, r.column) for r in rules}
    assert (K.NOT_NULL, "full_name") in kinds and (K.CODE_LIST, "sex") in kinds
    assert (K.NOT_NULL, "age") not in kinds  # nullable
    again = quality.quality_rules_sync(resource=people.resource)
    assert [r.pk for r in again] == [r.pk for r in rules]  # stable
    assert all(r.dimension for r in rules)


@pytest.mark.parametrize(
    "fmt, good, bad",
    [
        ("n8", "12345678", "1234567"),
        ("an..5", "ab12", "ab-1"),
        ("a2..3", "ab", "a"),
        ("n..5,2", "123.45", "123.456"),
        ("YYYYMMDD", "20240101", "2024-01-01"),
    ],
)
def test_element_formats_become_postgresql_checks(db, fmt, good, bad):
    p = format_check(fmt)
    with connection.cursor() as cur:
        for value, ok in ((good, True), (bad, False)):
            cur.execute(
                "SELECT (%s ~ %s) AND char_length(translate(%s, '-.', '')) BETWEEN %s AND %s"
                if p.get("digits")
                else "SELECT (%s ~ coalesce(%s, '')) AND (%s::int IS NULL OR char_length(%s) BETWEEN %s AND %s)",
                [value, p.get("regex"), value, p.get("min") or 0, p.get("max") or 99]
                if p.get("digits")
                else [
                    value,
                    p.get("regex"),
                    p.get("max"),
                    value,
                    p.get("min") or 0,
                    p.get("max") or 99,
                ],
            )
            assert cur.fetchone()[0] is ok, (fmt, value)


def test_the_rule_builder_refuses_unknown_columns_operators_and_bad_values(people):
    bureau = make_city_bureau()

    def make(data, kind=K.CUSTOM):
        return quality.quality_rule_create(
            resource=people.resource,
            name="r",
            dimension="accuracy",
            kind=kind,
            data=data,
            acting_user=bureau.reviewer,
        )

    with pytest.raises(DomainError) as e:
        make({"conditions": [{"column": "age; DROP TABLE x", "op": "eq", "value": "1"}]})
    assert e.value.field == "column"
    with pytest.raises(DomainError) as e:
        make({"conditions": [{"column": "age", "op": "raw", "value": "1"}]})
    assert e.value.field == "op"
    with pytest.raises(DomainError) as e:
        make({"conditions": [{"column": "age", "op": "eq", "value": "1 OR 1=1"}]})
    assert e.value.field == "value"
    with pytest.raises(DomainError):
        make({"column": "full_name", "min": "1"}, kind=K.RANGE)
    with pytest.raises(DomainError):
        make({"conditions": [{"column": "full_name", "op": "matches", "value": "("}]})
    # a value that looks like SQL is only ever a parameter
    rule = make({"conditions": [{"column": "full_name", "op": "ne", "value": "x' OR '1'='1"}]})
    r = run_now(people.resource).results.get(rule=rule)
    assert r.rows_failed == 1  # the NULL name; every other row passes


def test_only_the_bureau_builds_rules(people):
    with pytest.raises(Exception):  # noqa: B017
        quality.quality_rule_create(
            resource=people.resource,
            name="r",
            dimension="accuracy",
            kind=K.CUSTOM,
            data={"conditions": [{"column": "age", "op": "ge", "value": "0"}]},
            acting_user=people.agency.staff,
        )
