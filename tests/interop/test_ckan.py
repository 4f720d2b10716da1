"""The CKAN action API (issue #18, item 2): CKAN's envelope and identity rules, search with
q, fq, sort and facets, the harvester's own calls, ckanapi's client against a live server,
and nothing that is not open."""

from __future__ import annotations

import json
import uuid

import pytest
from ckanapi import NotFound, RemoteCKAN, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from authorization.interop.models import DatasetIdentity
from tests.authorization.opendata.factories import make_open
from tests.naughty import naughty_strings

from .conftest import make_world


def call(name: str, /, **params):
    response = Client().get(f"/api/3/action/{name}", params)
    return response.status_code, response.json()


def result(name: str, /, **params):
    status, data = call(name, **params)
    assert status == 200 and data["success"] is True, data
    return data["result"]


def test_site_and_status(world):
    assert result("site_read") is True
    status = result("status_show")
    assert status["ckan_version"] and status["site_url"] == "http://testserver"


def test_package_list_and_identity_rules(world):
    names = result("package_list")
    assert sorted(names) == sorted(
        [
            world.open_.resource.code.lower().replace("/", "-"),
            world.conditional.resource.code.lower().replace("/", "-"),
        ]
    )
    package = result("package_show", id=names[0])
    assert package["name"] == names[0] and uuid.UUID(package["id"])
    stored = DatasetIdentity.objects.get(resource__code__iexact=names[0].replace("-", "/")).uuid
    assert package["id"] == str(stored)
    assert result("package_show", id=package["id"])["name"] == names[0]


def test_package_show_of_open_data(world):
    package = result("package_show", id=str(world.open_.resource.dataset_identity.uuid))
    assert package["title"] == "开放养老机构信息" and package["isopen"] is True
    formats = sorted(r["format"] for r in package["resources"])
    assert formats == ["API", "CSV", "JSON", "XLSX"]
    csv = next(r for r in package["resources"] if r["format"] == "CSV")
    assert csv["url"].endswith(f"/open/{world.open_.resource.pk}/download/csv/") and csv["size"] > 0
    assert result("resource_show", id=csv["id"])["url"] == csv["url"]
    assert package["license_id"] == f"licence-{world.licence.pk}"
    assert package["organization"]["name"] == package["organization"]["name"].lower()
    conditional = result("package_show", id=str(world.conditional.resource.dataset_identity.uuid))
    assert conditional["resources"] == [] and conditional["isopen"] is False


def test_errors_are_in_ckans_envelope(world):
    status, data = call("package_show", id="no-such-package")
    assert status == 404 and data["success"] is False
    assert data["error"]["__type"] == "Not Found Error" and "help" in data
    status, data = call("package_search", rows="many")
    assert status == 409 and data["error"]["__type"] == "Validation Error"
    status, data = call("package_search", fq="metadata_modified:[yesterday TO *]")
    assert status == 409 and data["error"]["__type"] == "Search Query Error"
    status, data = call("package_create", name="x")
    assert status == 400 and data["success"] is False


def test_search_with_fq_sort_and_facets(world):
    found = result(
        "package_search",
        q="开放养老",
        **{"facet.field": json.dumps(["organization", "tags", "res_format", "license_id"])},
    )
    assert found["results"][0]["title"] == "开放养老机构信息"  # best match first
    assert found["facets"]["res_format"] == {"CSV": 1, "JSON": 1, "XLSX": 1, "API": 1}
    assert result("package_search", q="医疗")["count"] == 1
    assert found["search_facets"]["organization"]["items"][0]["count"] == 1
    everything = result("package_search", rows=100)
    assert everything["count"] == 2
    org = result("package_show", id=str(world.conditional.resource.dataset_identity.uuid))[
        "organization"
    ]["name"]
    assert result("package_search", fq=f"organization:{org}")["count"] == 1
    assert result("package_search", fq="res_format:CSV")["count"] == 1
    assert result("package_search", fq=f"license_id:licence-{world.licence.pk}")["count"] == 1
    assert result("package_search", fq="-res_format:CSV")["count"] == 1
    tag = result("package_search", rows=1)["results"][0]["tags"][0]["name"]
    assert result("package_search", fq=f'tags:"{tag}"')["count"] >= 1
    by_id = result("package_search", sort="id asc", rows=10)["results"]
    assert [p["id"] for p in by_id] == sorted(p["id"] for p in by_id)
    page = result("package_search", sort="id asc", rows=1, start=1)["results"]
    assert page[0]["id"] == by_id[1]["id"]


def test_the_harvesters_own_calls(world):
    since = result("package_search", fq="metadata_modified:[2000-01-01T00:00:00Z TO *]")
    assert since["count"] == 2
    future = result(
        "package_search",
        fq="metadata_modified:[2999-01-01T00:00:00.000Z TO *]",
        sort="id asc",
        rows=100,
        start=0,
    )
    assert future["count"] == 0 and future["results"] == []


def test_other_lists(world):
    orgs = result("organization_list", all_fields="true")
    assert len(orgs) == 2 and all(o["package_count"] == 1 for o in orgs)
    shown = result("organization_show", id=orgs[0]["name"], include_datasets="true")
    assert shown["package_count"] == 1 and len(shown["packages"]) == 1
    assert result("group_list")
    assert "人口" in result("tag_list") or result("tag_list")
    assert result("license_list")[0]["id"] == f"licence-{world.licence.pk}"


def test_nothing_closed_or_above_its_grade_appears(world):
    texts = [
        json.dumps(call(name, **params)[1], ensure_ascii=False)
        for name, params in [
            ("package_list", {}),
            ("package_search", {"rows": 1000, "facet.field": '["organization","tags"]'}),
            ("organization_list", {"all_fields": "true"}),
            ("tag_list", {}),
            ("group_list", {}),
        ]
    ]
    for hidden in world.hidden:
        name = hidden.resource.published_version.name
        code = hidden.resource.code.lower().replace("/", "-")
        assert not any(name in t or code in t for t in texts)
        ident = str(DatasetIdentity.objects.get(resource=hidden.resource).uuid)
        assert call("package_show", id=ident)[0] == 404
        assert call("package_show", id=code)[0] == 404
        assert result("package_search", fq=f"id:{ident}")["count"] == 0
    # The hidden resources' providers provide nothing public: they are not organizations.
    assert len(result("organization_list")) == 2


def test_package_search_queries_do_not_grow_with_rows(world):
    seen = {}

    def count(rows):
        with CaptureQueriesContext(connection) as ctx:
            result("package_search", rows=rows, **{"facet.field": '["organization","tags"]'})
        seen[rows] = [q["sql"][:150] for q in ctx.captured_queries]
        return len(ctx.captured_queries)

    def ctx_dump():
        return "\n".join(seen[50])

    count(2)  # warms the facet cache
    before = count(2)
    for n in range(3):
        make_open(n=0, open_type="conditional", name=f"有条件开放资源{n}")
    count(50)
    assert count(50) == before, ctx_dump()


def test_writes_and_methods(world):
    response = Client().delete("/api/3/action/package_list")
    assert response.status_code == 405


def test_rate_limited(world, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "open_data": "2/min",
        },
    }
    from django.core.cache import cache

    cache.clear()
    statuses = [
        Client(REMOTE_ADDR="10.9.8.7").get("/api/3/action/site_read").status_code for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    data = Client(REMOTE_ADDR="10.9.8.7").get("/api/3/action/site_read").json()
    assert data["success"] is False and data["error"]["__type"] == "Throttled"


def test_nul_characters_are_refused(world):
    status, data = call("package_search", q="a\x00b")
    assert status == 409 and data["error"]["__type"] == "Validation Error"


def test_naughty_queries_never_500(world):
    for s in naughty_strings()[::8]:
        for params in ({"q": s}, {"fq": s}, {"sort": s}, {"facet.field": s}, {"id": s}):
            for name in ("package_search", "package_show", "organization_show", "resource_show"):
                status, data = call(name, **params)
                assert status < 500 and "success" in data, (name, params)


@pytest.mark.django_db(transaction=True)
def test_ckanapi_reads_it_unchanged(live_server, settings, tmp_path):
    world = make_world()
    portal = RemoteCKAN(live_server.url, user_agent="pdr-tests")
    names = portal.action.package_list()
    assert len(names) == 2
    found = portal.action.package_search(
        q="开放养老", rows=10, **{"facet.field": ["organization", "tags", "res_format"]}
    )
    assert found["count"] >= 1 and set(found["facets"]) == {"organization", "tags", "res_format"}
    package = portal.action.package_show(id=found["results"][0]["name"])
    assert {r["format"] for r in package["resources"]} == {"CSV", "XLSX", "JSON", "API"}
    assert portal.action.organization_list()
    with pytest.raises(NotFound):
        portal.action.package_show(id=world.closed.resource.code.lower().replace("/", "-"))
    with pytest.raises(ValidationError):
        portal.action.package_search(rows="x")


def test_a_warm_package_search_page_is_two_queries(world):
    """The page's ids, then its packages with their resources, tags, groups, organization and
    licence in one (prepared) query; count and facets come from the cache when warm."""
    params = {"rows": 10, "facet.field": '["organization","tags","res_format"]'}
    cold = result("package_search", **params)
    with CaptureQueriesContext(connection) as ctx:
        warm = result("package_search", **params)
    assert len(ctx.captured_queries) == 2, "\n".join(q["sql"][:150] for q in ctx.captured_queries)
    assert warm == cold and warm["count"] == 2
    open_package = next(p for p in warm["results"] if p["isopen"])
    assert sorted(r["format"] for r in open_package["resources"]) == ["API", "CSV", "JSON", "XLSX"]
    assert warm["search_facets"]["organization"]["items"][0]["display_name"]


def test_package_show_is_two_queries_and_the_same_unprepared(world, settings):
    name = str(world.open_.resource.dataset_identity.uuid)
    result("package_show", id=name)
    with CaptureQueriesContext(connection) as ctx:
        prepared = result("package_show", id=name)
    assert len(ctx.captured_queries) == 2
    settings.DATABASE_PREPARED_STATEMENTS = False
    assert result("package_show", id=name) == prepared


def test_resource_show_is_an_indexed_lookup_of_two_queries(world):
    """Every resource of an open package is found by its stored UUID (the same dictionary as
    in its package) in two queries, whatever the catalog's size; a conditional or hidden
    dataset's derived resource UUIDs name nothing."""
    from authorization.interop.models import DistributionIdentity, distribution_uuid

    package = result("package_show", id=str(world.open_.resource.dataset_identity.uuid))
    for res in package["resources"]:
        with CaptureQueriesContext(connection) as ctx:
            shown = result("resource_show", id=res["id"])
        assert shown == res
        assert len(ctx.captured_queries) == 2, [q["sql"][:120] for q in ctx.captured_queries]
        fmt = res["format"].lower()
        stored = DistributionIdentity.objects.get(resource=world.open_.resource, format=fmt)
        assert str(stored.uuid) == res["id"] == distribution_uuid(package["id"], fmt)
    for entry in [world.conditional, *world.hidden]:
        dataset = DatasetIdentity.objects.get(resource=entry.resource).uuid
        for fmt in ("csv", "api"):
            assert DistributionIdentity.objects.filter(resource=entry.resource, format=fmt)
            status, data = call("resource_show", id=distribution_uuid(dataset, fmt))
            assert status == 404 and data["error"]["__type"] == "Not Found Error"
    for _ in range(3):
        make_open(n=0, open_type="conditional", name="更多有条件开放资源")
    with CaptureQueriesContext(connection) as ctx:
        assert result("resource_show", id=package["resources"][0]["id"]) == package["resources"][0]
    assert len(ctx.captured_queries) == 2


@pytest.mark.django_db
def test_timestamps_written_in_sql_are_as_python_writes_them():
    """`selectors.IsoUTC` (package pages write their timestamps in SQL) against `ckan._iso`:
    whole seconds, trailing zeros, a zone other than UTC, an early year."""
    from datetime import UTC, datetime, timedelta, timezone

    from django.db.models import DateTimeField, Value

    from authorization.interop.ckan import _iso
    from authorization.interop.selectors import IsoUTC
    from catalog.models import Classification

    moments = [
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 59, 59, 1, tzinfo=UTC),
        datetime(2026, 6, 1, 8, 0, 0, 500, tzinfo=timezone(timedelta(hours=8))),
        datetime(999, 1, 1, 0, 0, 0, 999999, tzinfo=UTC),
    ]
    assert Classification.objects.exists()  # the catalog's base data
    for moment in moments:
        written = (
            Classification.objects.annotate(t=IsoUTC(Value(moment, output_field=DateTimeField())))
            .values_list("t", flat=True)
            .first()
        )
        assert written == _iso(moment), moment


JUNK = [
    "\x00",
    "a\x00b",
    "-1",
    "-99999999999999999999",
    "0",
    str(10**40),
    "1e3",
    "1.5",
    "abc",
    "",
    " ",
    "[]",
    "{}",
    '["x"]',
    "null",
    "*:*",
    "١٢",
    "%00",
    "'; DROP TABLE x; --",
]
PARAMS = [
    "id",
    "name_or_id",
    "q",
    "fq",
    "fq_list",
    "sort",
    "rows",
    "start",
    "facet",
    "facet.field",
    "facet.limit",
    "limit",
    "offset",
    "all_fields",
    "include_datasets",
    "query",
]


def test_junk_in_every_parameter_of_every_action_never_500(world):
    """NUL bytes, huge, negative and non-numeric values in each parameter of each action:
    CKAN's envelope, with `__type` on an error, never a 500 (GET and ckanapi's JSON POST)."""
    from authorization.interop.ckan import ACTIONS

    for name in ACTIONS:
        for param in PARAMS:
            for value in JUNK:
                status, data = call(name, **{param: value})
                assert status < 500 and data["success"] in (True, False), (name, param, value)
                if not data["success"]:
                    assert data["error"]["__type"], (name, param, value)
        for value in [10**40, -1, 1.5, None, [], {"a": 1}, "\x00"]:
            response = Client().post(
                f"/api/3/action/{name}",
                json.dumps({"rows": value, "start": value, "id": value, "limit": value}),
                content_type="application/json",
            )
            assert response.status_code < 500, (name, value)
            assert "__type" in response.json().get("error", {"__type": "-"}), (name, value)
    # Digits str.isdigit() accepts and int() refuses, where an fq value names a number.
    for fq in ("organization:org-⁴", "license_id:licence-⁴", "organization:org-١٢"):
        status, data = call("package_search", fq=fq)
        assert status == 200 and data["result"]["count"] == 0, fq
    status, data = call("package_search", rows=str(10**40))
    assert status == 200 and len(data["result"]["results"]) == 2  # rows past 1,000: 1,000
    status, data = call("package_search", start="-1")
    assert status == 409 and data["error"]["__type"] == "Validation Error"


def test_a_page_of_the_whole_catalog_sees_a_new_publication(world):
    """The whole catalog's ids query is compiled once per sort: it holds no value, so a
    resource published afterwards is on the next page read (and in the count)."""
    for sort in ("metadata_modified desc", "id asc", "name asc"):
        before = result("package_search", rows=100, sort=sort)
        assert before["count"] == len(before["results"])
    added = make_open(n=0, open_type="conditional", name="新近开放的资源")
    for sort in ("metadata_modified desc", "id asc", "name asc"):
        after = result("package_search", rows=100, sort=sort)
        titles = [p["title"] for p in after["results"]]
        assert "新近开放的资源" in titles and after["count"] == before["count"] + 1
    assert str(added.resource.dataset_identity.uuid) in {p["id"] for p in after["results"]}
