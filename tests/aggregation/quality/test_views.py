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
