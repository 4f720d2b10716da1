"""GET /api/v1/catalog/resources/: the public catalog search as JSON. Anonymous callers see
the open catalog, so the entries here are open under conditions (who sees what:
test_open_catalog.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from . import factories as f
from .test_search import naughty_strings

pytestmark = pytest.mark.django_db
URL = "/api/v1/catalog/resources/"
OPEN = {"open_type": "conditional", "open_conditions": "经审批后开放。", "open_legal_basis": ""}


@pytest.fixture
def api():
    return Client()


def test_search_returns_a_drf_page_of_published_resources(api, agency, city):
    version = f.make_published(
        agency, city.reviewer, name="户籍人口基本信息", summary="用于政务服务。", **OPEN
    )
    f.make_published(agency, city.reviewer, name="法人单位登记", summary="用于政务服务。", **OPEN)
    response = api.get(URL, {"q": "人口", "page": 1})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert (body["count"], body["next"], body["previous"]) == (1, None, None)
    [row] = body["results"]
    assert {
        "code",
        "name",
        "provider",
        "share_type",
        "open_type",
        "update_cycle",
        "published_at",
    } <= set(row)
    assert row["code"] == version.resource.code
    assert row["name"] == "户籍人口基本信息"
    assert row["provider"] == agency.org.name
    assert (row["share_type"], row["open_type"], row["update_cycle"]) == (
        "conditional",
        "conditional",
        "monthly",
    )
    assert dt.datetime.fromisoformat(row["published_at"]) == version.published_at
    assert row["grade"] == "L2"


def test_drafts_are_not_listed(api, agency, city):
    f.make_draft(agency, name="草稿人口信息")
    f.approve(f.make_draft(agency, name="待审人口信息"), agency)
    body = api.get(URL, {"q": "人口"}).json()
    assert (body["count"], body["results"]) == (0, [])
    assert api.get(URL).json()["count"] == 0


def test_filters_narrow_the_list(api, agency, city):
    f.make_published(agency, city.reviewer, name="户籍人口基本信息", **OPEN)
    f.make_published(
        agency,
        city.reviewer,
        name="家庭户人口信息",
        grade=f.grade("L1"),
        share_type="unconditional",
        share_conditions="",
        **OPEN,
    )
    body = api.get(URL, {"q": "人口", "share_type": "unconditional"}).json()
    assert [r["name"] for r in body["results"]] == ["家庭户人口信息"]
    assert api.get(URL, {"q": "人口"}).json()["count"] == 2


def test_an_invalid_filter_does_not_drop_the_search(api, agency, city):
    f.make_published(
        agency, city.reviewer, name="户籍人口基本信息", summary="用于政务服务。", **OPEN
    )
    f.make_published(agency, city.reviewer, name="法人单位登记", summary="用于政务服务。", **OPEN)
    for bad in ({"provider": "999999999"}, {"grade": "abc"}, {"share_type": "everyone"}):
        body = api.get(URL, {"q": "户籍", **bad}).json()
        assert [r["name"] for r in body["results"]] == ["户籍人口基本信息"], bad


def test_anonymous_may_not_write(api):
    assert api.post(URL, {"name": "x"}).status_code in (401, 403, 405)


def test_naughty_strings_never_give_a_server_error(api, agency, city):
    f.make_published(agency, city.reviewer, name="户籍人口基本信息", **OPEN)
    failures = []
    for s in [*naughty_strings(), "\x00", "人口\x00", "%00", "'", "\\", "a" * 5000]:
        response = api.get(URL, {"q": s})
        if response.status_code != 200 or "results" not in response.json():
            failures.append(f"{s!r}: {response.status_code}")
    assert failures == [], "\n".join(failures[:20])
