"""The quality pages: each protected view beside its forbidden-access test, forms submitted,
query counts of the list pages."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from aggregation.models import QualityIssue, QualityRule
from tests.aggregation.factories import make_channel
from tests.catalog.factories import make_agency, make_city_bureau

from .factories import code_list, element, load, run_now

S = QualityIssue.State


def client(user=None) -> Client:
    c = Client()
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if user is not None:
        c.force_login(user)
    return c


@pytest.fixture
def towns(db):
    areas = element(name="区划代码", format="n6", code_list=code_list(["420102", "420103"]))
    setup = make_channel(
        items=[
            {
                "name": "代码",
                "english_name": "code",
                "data_type": "C",
                "length": 12,
                "is_key": True,
            },
            {
                "name": "区划",
                "english_name": "area_code",
                "data_type": "C",
                "length": 6,
                "element": areas,
            },
            {"name": "人口", "english_name": "population", "data_type": "I"},
        ]
    )
    load(setup, "代码,区划,人口\nT1,420102,10\nT2,999999,20\nT3,420103,30\n")
    run_now(setup.resource)
    setup.bureau = make_city_bureau()
    setup.issue = QualityIssue.objects.get(resource=setup.resource)
    return setup


def test_provider_and_bureau_see_the_resource_page_others_get_404(towns):
    url = reverse("quality:resource", args=[towns.resource.pk])
    page = client(towns.agency.staff).get(url)
    assert page.status_code == 200
    assert b"Rules and their last result" in page.content and b"<svg" in page.content
    assert b"Add a custom rule" not in page.content
    assert b"Add a custom rule" in client(towns.bureau.reviewer).get(url).content
    assert client(make_agency().staff).get(url).status_code == 404
    assert client().get(url).status_code == 302  # to the login


def test_run_now_queues_a_run_for_provider_not_for_others(towns):
    from aggregation.models import QualityRun

    url = reverse("quality:run", args=[towns.resource.pk])
    assert client(make_agency().staff).post(url).status_code == 404
    before = QualityRun.objects.filter(resource=towns.resource).count()
    assert client(towns.agency.staff).post(url).status_code == 302
    assert QualityRun.objects.filter(resource=towns.resource, trigger="manual").count() == 1
    assert QualityRun.objects.filter(resource=towns.resource).count() == before + 1


def test_bureau_adds_a_custom_rule_with_the_builder(towns):
    url = reverse("quality:rule-create", args=[towns.resource.pk])
    form = {
        "name": "人口为正",
        "dimension": "accuracy",
        "kind": "custom",
        "join": "and",
        "column_1": "population",
        "op_1": "gt",
        "value_1": "0",
    }
    assert client(towns.agency.staff).post(url, form).status_code == 404
    response = client(towns.bureau.reviewer).post(url, form)
    assert response.status_code == 302
    rule = QualityRule.objects.get(resource=towns.resource, derived=False)
    assert rule.params == {
        "conditions": [{"column": "population", "op": "gt", "value": "0"}],
        "join": "and",
    }
    bad = client(towns.bureau.reviewer).post(url, {**form, "value_1": "many"})
    assert bad.status_code == 400 and b"is not a value of this column" in bad.content
    bad = client(towns.bureau.reviewer).post(url, {**form, "column_1": "nope"})
    assert bad.status_code == 400  # not a choice of the form


def test_issue_list_shows_own_issues_to_the_agency_and_all_to_the_bureau(
    towns, django_assert_max_num_queries
):
    other = make_channel()
    load(
        other, "编号,姓名,年龄,出生日期,金额,更新时间\nA,张三,1,2000-01-01,1,2099-01-01 00:00:00\n"
    )
    run_now(other.resource)
    url = reverse("quality:issues")
    agency_client, bureau_client = client(towns.agency.staff), client(towns.bureau.reviewer)
    agency_client.get(url)  # the session settles on the first request
    bureau_client.get(url)
    with django_assert_max_num_queries(16):
        mine = agency_client.get(url)
    assert towns.issue.rule.name.encode() in mine.content
    assert other.resource.code.encode() not in mine.content
    with django_assert_max_num_queries(18):
        every = bureau_client.get(url)
    assert towns.resource.code.encode() in every.content
    assert other.resource.code.encode() in every.content
    filtered = client(towns.bureau.reviewer).get(url, {"agency": towns.agency.org.pk})
    assert other.resource.code.encode() not in filtered.content
    assert b"No issue matches" in client(towns.bureau.reviewer).get(url, {"q": "zzz"}).content
    assert client().get(url).status_code == 302


def test_issue_detail_is_404_for_another_agency(towns):
    url = reverse("quality:issue-detail", args=[towns.issue.pk])
    assert client(towns.agency.staff).get(url).status_code == 200
    assert client(towns.bureau.reviewer).get(url).status_code == 200
    assert client(make_agency().staff).get(url).status_code == 404


def test_agency_answers_and_bureau_closes_through_the_forms(towns):
    answer = reverse("quality:issue-answer", args=[towns.issue.pk])
    decide = reverse("quality:issue-decide", args=[towns.issue.pk])
    assert (
        client(make_agency().staff).post(answer, {"answer": "fixed", "text": "x"}).status_code
        == 404
    )
    empty = client(towns.agency.staff).post(answer, {"answer": "fixed", "text": ""})
    assert empty.status_code == 400
    assert (
        client(towns.agency.staff)
        .post(answer, {"answer": "explained", "text": "新设街道"})
        .status_code
        == 302
    )
    towns.issue.refresh_from_db()
    assert towns.issue.state == S.ANSWERED
    # the agency may not close
    refused = client(towns.agency.staff).post(decide, {"action": "close"})
    assert refused.status_code == 400
    no_comment = client(towns.bureau.reviewer).post(decide, {"action": "reopen", "comment": ""})
    assert no_comment.status_code == 400 and b"comment" in no_comment.content
    assert client(towns.bureau.reviewer).post(decide, {"action": "close"}).status_code == 302
    towns.issue.refresh_from_db()
    assert towns.issue.state == S.CLOSED


def test_boards_by_agency_for_the_bureau_and_by_resource_for_the_agency(
    towns, django_assert_max_num_queries
):
    url = reverse("quality:board")
    bureau_client = client(towns.bureau.reviewer)
    bureau_client.get(url)
    with django_assert_max_num_queries(18):
        bureau = bureau_client.get(url)
    assert towns.agency.org.name.encode() in bureau.content
    agency = client(towns.agency.staff).get(url)
    assert towns.resource.code.encode() in agency.content
    other = client(make_agency().staff).get(url)
    assert towns.resource.code.encode() not in other.content
    assert b"No quality run has finished yet" in other.content


def _errors(response, field: str) -> list[str]:
    return [str(e) for e in response.context["builder"].errors.get(field, [])]


def test_builder_errors_name_the_condition_row_and_keep_the_input(towns):
    url = reverse("quality:rule-create", args=[towns.resource.pk])
    c = client(towns.bureau.reviewer)
    form = {
        "name": "两个条件",
        "dimension": "accuracy",
        "kind": "custom",
        "join": "and",
        "column_1": "population",
        "op_1": "gt",
        "value_1": "0",
        "column_2": "population",
        "op_2": "lt",
        "value_2": "many",
    }
    bad = c.post(url, form)
    assert bad.status_code == 400
    assert "is not a value of this column" in " ".join(_errors(bad, "value_2"))
    assert not _errors(bad, "value_1")
    assert bad.context["builder"]["value_2"].value() == "many"  # nothing lost
    # an operator and a value without a column is not dropped silently
    bad = c.post(url, {**form, "column_2": "", "op_2": "eq", "value_2": "5"})
    assert bad.status_code == 400 and _errors(bad, "column_2")
    # a column without an operator
    bad = c.post(url, {**form, "op_2": "", "value_2": ""})
    assert bad.status_code == 400 and _errors(bad, "op_2")
    # a text operator's regular expression that PostgreSQL cannot compile
    bad = c.post(url, {**form, "column_2": "area_code", "op_2": "matches", "value_2": "(["})
    assert bad.status_code == 400 and _errors(bad, "value_2")
    # no condition at all
    empty = {k: v for k, v in form.items() if not k[-1].isdigit()}
    bad = c.post(url, empty)
    assert bad.status_code == 400 and _errors(bad, "column_1")
    # the form returns to the builder, not to the top of the page
    assert (
        b'rules/#builder"' in c.get(reverse("quality:resource", args=[towns.resource.pk])).content
    )
    assert not QualityRule.objects.filter(resource=towns.resource, derived=False).exists()


def test_builder_refuses_a_range_whose_highest_is_below_its_lowest(towns):
    url = reverse("quality:rule-create", args=[towns.resource.pk])
    c = client(towns.bureau.reviewer)
    form = {"name": "人口范围", "dimension": "accuracy", "kind": "range", "column": "population"}
    bad = c.post(url, {**form, "min": "50", "max": "10"})
    assert bad.status_code == 400 and _errors(bad, "max")
    no_column = c.post(url, {**form, "column": "", "min": "1"})
    assert no_column.status_code == 400 and _errors(no_column, "column")
    assert c.post(url, {**form, "min": "10", "max": "50"}).status_code == 302
    rule = QualityRule.objects.get(resource=towns.resource, derived=False)
    assert rule.params == {"min": "10", "max": "50"}
    # the rules table says what the rule checks
    page = c.get(reverse("quality:resource", args=[towns.resource.pk]))
    assert "人口 from 10 to 50" in page.content.decode()


def test_bureau_edits_a_custom_rule_others_get_404(towns):
    from aggregation.quality import services

    rule = services.quality_rule_create(
        resource=towns.resource,
        name="人口为正",
        dimension="accuracy",
        kind="custom",
        data={"conditions": [{"column": "population", "op": "gt", "value": "0"}]},
        acting_user=towns.bureau.reviewer,
    )
    url = reverse("quality:rule-update", args=[towns.resource.pk, rule.pk])
    c = client(towns.bureau.reviewer)
    page = c.get(url)
    assert page.status_code == 200
    assert page.context["builder"]["op_1"].value() == "gt"
    assert page.context["builder"]["value_1"].value() == "0"
    for user in (towns.agency.staff, make_agency().staff):
        assert client(user).get(url).status_code == 404
        assert client(user).post(url, {"name": "x"}).status_code == 404
    derived = QualityRule.objects.filter(resource=towns.resource, derived=True).first()
    derived_url = reverse("quality:rule-update", args=[towns.resource.pk, derived.pk])
    assert c.get(derived_url).status_code == 404
    form = {
        "name": "人口不少于 5",
        "dimension": "completeness",
        "kind": "range",  # ignored: a rule keeps its kind
        "join": "or",
        "column_1": "population",
        "op_1": "ge",
        "value_1": "5",
    }
    bad = c.post(url, {**form, "value_1": "five"})
    assert bad.status_code == 400 and _errors(bad, "value_1")
    assert c.post(url, form).status_code == 302
    rule.refresh_from_db()
    assert (
        rule.kind == "custom" and rule.name == "人口不少于 5" and rule.dimension == "completeness"
    )
    assert rule.params == {
        "conditions": [{"column": "population", "op": "ge", "value": "5"}],
        "join": "or",
    }
    reasons = list(rule.history.values_list("history_change_reason", flat=True))
    assert reasons[0] == "Custom rule changed" and "update" not in reasons


def test_a_run_under_way_is_shown_and_polled_until_done(towns):
    from aggregation.models import QualityRun

    page_url = reverse("quality:resource", args=[towns.resource.pk])
    status_url = reverse("quality:run-status", args=[towns.resource.pk])
    c = client(towns.agency.staff)
    assert c.get(status_url).json()["done"] is True
    assert b"data-run-status-url" not in c.get(page_url).content
    run = QualityRun.objects.create(resource=towns.resource, trigger="manual")
    page = c.get(page_url)
    assert b"data-run-status-url" in page.content and b"js/quality.js" in page.content
    assert c.get(status_url).json() == {
        "done": False,
        "status": "pending",
        "status_label": "Waiting",
    }
    assert client(make_agency().staff).get(status_url).status_code == 404
    run.status = QualityRun.Status.DONE
    run.save()
    assert c.get(status_url).json()["done"] is True


def test_a_run_that_finds_the_same_failure_writes_no_history_row(towns):
    history = towns.issue.history.count()
    reasons = list(towns.issue.history.values_list("history_change_reason", flat=True))
    assert "Opened by a run" in reasons and "run" not in reasons
    run = run_now(towns.resource)
    towns.issue.refresh_from_db()
    assert towns.issue.history.count() == history
    assert towns.issue.last_run_id == run.pk  # the issue still points at the latest run


def test_board_means_have_two_decimals_like_the_resource_page(towns):
    from aggregation.quality.selectors import _mean

    assert str(_mean([99.83, 100])) == "99.92"


def test_bureau_board_drills_down_into_an_agencys_resources(towns, django_assert_max_num_queries):
    c = client(towns.bureau.reviewer)
    board = c.get(reverse("quality:board"))
    drill = reverse("quality:board") + f"?agency={towns.agency.org.pk}"
    assert drill.encode() in board.content.replace(b"&amp;", b"&")
    c.get(drill)
    with django_assert_max_num_queries(18):
        page = c.get(drill)
    assert page.status_code == 200 and page.context["group"] == "resource"
    assert reverse("quality:resource", args=[towns.resource.pk]).encode() in page.content
    other = make_agency()
    empty = c.get(reverse("quality:board") + f"?agency={other.org.pk}")
    assert empty.status_code == 404  # no published resource, no issue: not a board
    assert c.get(reverse("quality:board") + "?agency=abc").status_code == 404
    # an agency's staff cannot look at another agency's board
    mine = client(other.staff).get(drill)
    assert towns.resource.code.encode() not in mine.content


def test_issue_list_filtered_by_an_agency_without_issues_is_empty_not_everyones(towns):
    from tests.catalog.factories import make_published

    other = make_agency()
    make_published(other, towns.bureau.reviewer)
    page = client(towns.bureau.reviewer).get(reverse("quality:issues") + f"?agency={other.org.pk}")
    assert page.status_code == 200 and not page.context["page_obj"].object_list
    assert b"No issue matches the filters" in page.content
