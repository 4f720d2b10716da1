"""Reference rules are no oracle (issue 11, item 7).

Agency A's township list binds its area column to the data element of agency B's area list
key, so a reference rule is derived: the failing rows of A are those whose area is not a
key of B. When A may not see B's keys (B is shared only under conditions, or its key is
masked), A learns nothing of the rule's result: no count, no sample key, no score, no issue;
the bureau sees it all. When A may see B's keys, nothing is withheld."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from aggregation.models import QualityIssue, QualityRule
from aggregation.quality.permissions import sees_reference
from aggregation.quality.selectors import DIMENSIONS, quality_board
from catalog.models import Resource
from tests.aggregation.factories import Setup
from tests.catalog import factories as cf
from wuhan_pdr.accounts.models import User

from .factories import SHARED_ONLY, SHARED_OPEN_L1, element, load, published_channel, run_now

K = QualityRule.Kind


def client(user) -> Client:
    c = Client()
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    c.force_login(user)
    return c


@dataclass
class World:
    a: Setup
    b: Setup
    rule: QualityRule
    reviewer: User


def build(b_fields: dict, *, masked_key: bool = False) -> World:
    area = element(name="行政区划代码", format="n6")
    key = {
        "name": "区划代码",
        "english_name": "code",
        "data_type": "C",
        "length": 6,
        "is_key": True,
        "element": area,
    }
    if masked_key:
        key["masking_rule"] = "保留首尾"
    b = published_channel(
        cf.make_agency(),
        [key, {"name": "名称", "english_name": "name", "data_type": "C", "length": 50}],
        b_fields,
    )
    load(b, "区划代码,名称\n420102,江岸区\n420103,江汉区\n")
    a = published_channel(
        cf.make_agency(),
        [
            {
                "name": "编号",
                "english_name": "code",
                "data_type": "C",
                "length": 20,
                "is_key": True,
            },
            {
                "name": "区划",
                "english_name": "area",
                "data_type": "C",
                "length": 6,
                "element": area,
            },
        ],
        SHARED_ONLY,
    )
    # A's chosen values: one that exists in B, one that does not.
    load(a, "编号,区划\nK01,420102\nK02,420199\nK03,420103\n")
    run = run_now(a.resource)
    rule = QualityRule.objects.get(resource=a.resource, kind=K.REFERENCE)
    assert rule.params["resource"] == b.resource.pk
    result = run.results.get(rule=rule)
    # The result is always stored: the bureau reads it.
    assert (result.rows_failed, result.sample_keys) == (1, ["K02"])
    return World(a=a, b=b, rule=rule, reviewer=cf.make_city_bureau().reviewer)


def quality_url(resource: Resource) -> str:
    return reverse("quality:resource", args=[resource.pk])


@pytest.mark.parametrize(
    "b_fields,masked_key",
    [(SHARED_ONLY, False), (SHARED_OPEN_L1, True)],
    ids=["b-shared-under-conditions", "b-key-masked"],
)
def test_the_provider_learns_nothing_from_a_reference_it_may_not_see(db, b_fields, masked_key):
    w = build(b_fields, masked_key=masked_key)
    staff = w.a.agency.staff
    assert not sees_reference(staff, w.rule) and sees_reference(w.reviewer, w.rule)

    # No score: the consistency dimension has no other rule here, so it is not scored.
    run = w.a.resource.quality_runs.filter(status="done").latest("created_at")
    assert "consistency" not in run.scores
    # No issue, so no notification either.
    assert not QualityIssue.objects.filter(rule=w.rule).exists()

    response = client(staff).get(quality_url(w.a.resource))
    page = response.content.decode()
    rule = next(r for r in response.context["rules"] if r.pk == w.rule.pk)
    assert rule.withheld
    assert "K02" not in page
    assert "Withheld: the result of this check is shown only" in page
    # The board the provider sees shows no consistency score for the resource.
    _group, rows = quality_board(staff)
    consistency = [d.value for d in DIMENSIONS].index("consistency")
    assert rows[0].scores[consistency] is None

    # The bureau sees the count and the sample key.
    bureau_page = client(w.reviewer).get(quality_url(w.a.resource)).content.decode()
    assert "K02" in bureau_page


def test_an_issue_opened_before_is_withheld_on_the_issue_pages(db):
    w = build(SHARED_ONLY)
    staff = w.a.agency.staff
    # An issue of the rule from before the provider lost sight of B (or before this check).
    issue = QualityIssue.objects.create(
        resource=w.a.resource,
        rule=w.rule,
        provider=w.a.agency.org,
        rows_failed=1,
        sample_keys=["K02"],
        opened_by_run=w.a.resource.quality_runs.latest("created_at"),
    )
    detail = reverse("quality:issue-detail", args=[issue.pk])
    page = client(staff).get(detail).content.decode()
    assert "K02" not in page and 'id="rows-failing">1<' not in page
    assert "Withheld" in page
    listing = client(staff).get(reverse("quality:issues"))
    row = next(i for i in listing.context["page_obj"].object_list if i.pk == issue.pk)
    assert row.withheld
    bureau = client(w.reviewer).get(detail).content.decode()
    assert "K02" in bureau and 'id="rows-failing">1<' in bureau


def test_nothing_is_withheld_when_the_provider_may_see_the_referenced_keys(db):
    w = build(SHARED_OPEN_L1)
    staff = w.a.agency.staff
    assert sees_reference(staff, w.rule)
    run = w.a.resource.quality_runs.filter(status="done").latest("created_at")
    assert run.scores["consistency"] == pytest.approx(66.67)
    issue = QualityIssue.objects.get(rule=w.rule)
    assert issue.rows_failed == 1 and issue.sample_keys == ["K02"]
    page = client(staff).get(quality_url(w.a.resource)).content.decode()
    assert "K02" in page and "Withheld" not in page
    detail = client(staff).get(reverse("quality:issue-detail", args=[issue.pk])).content.decode()
    assert "K02" in detail
