"""List pages and the list API cost a fixed number of queries, whatever the number of rows."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.accounts.factories import UserFactory
from wuhan_pdr.accounts.roles import Role

from . import factories as f

pytestmark = pytest.mark.django_db

REQUESTS = [
    ("/catalog/", {}),
    ("/catalog/", {"q": "信息"}),
    ("/catalog/", {"q": "信息", "share_type": "conditional"}),
    ("/api/v1/catalog/resources/", {}),
    ("/api/v1/catalog/resources/", {"q": "信息", "page": 1}),
]

# Varied providers, classifications, grades and cycles, so each facet has more values too.
VARIANTS = [
    {"classification_code": "101"},
    {
        "classification_code": "102",
        "grade": "L1",
        "share_type": "unconditional",
        "share_conditions": "",
    },
    {"classification_code": "201", "update_cycle": "daily"},
    {"classification_code": "204", "grade": "L3", "update_cycle": "yearly"},
    {"classification_code": "103", "open_type": "conditional", "open_conditions": "经审批。"},
]


def _publish_entries(n: int, start: int, agencies, reviewer) -> None:
    for i in range(start, start + n):
        variant = dict(VARIANTS[i % len(VARIANTS)])
        if "grade" in variant:
            variant["grade"] = f.grade(variant["grade"])
        f.make_published(
            agencies[i % len(agencies)], reviewer, name=f"第{i:02d}号人口信息", **variant
        )


def _queries(client: Client) -> dict[str, int]:
    counts = {}
    for path, params in REQUESTS:
        cache.clear()  # count the cold path: cached facet labels would hide queries
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(path, params)
        assert response.status_code == 200, (path, params)
        counts[f"{path}?{params}"] = len(ctx.captured_queries)
    return counts


def test_catalog_list_and_api_queries_do_not_grow_with_rows(city):
    agencies = [f.make_agency() for _ in range(2)]
    _publish_entries(5, 0, agencies, city.reviewer)
    # A government user sees every entry, open or not (the public's open catalog keeps a
    # fixed count too: test_open_catalog.py).
    client = Client()
    client.force_login(UserFactory(roles=[Role.AUDITOR]))
    _queries(client)  # warm the process-wide caches (content types) a test run alone starts cold
    at_5 = _queries(client)
    assert client.get("/api/v1/catalog/resources/").json()["count"] == 5

    agencies += [f.make_agency() for _ in range(3)]
    _publish_entries(25, 5, agencies, city.reviewer)
    at_30 = _queries(client)
    body = client.get("/api/v1/catalog/resources/").json()
    assert (body["count"], len(body["results"])) == (30, 20)
    assert body["next"] is not None
    page = client.get("/catalog/")
    assert len(page.context["page_obj"].object_list) == 20
    assert page.context["total"] == 30

    assert at_30 == at_5
