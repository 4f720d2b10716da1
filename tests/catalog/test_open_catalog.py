"""What the public sees (issue 11, item 12): anonymous visitors and outside users (requesters
of companies, operators) see the open catalog (open unconditionally or under conditions, with
a grade that allows it); people of public bodies and the platform's officers see the whole
published catalog. One rule (catalog.permissions.catalog_visible_q) behind every side door:
list, search, facets, resource and version pages, export, API, releases, element usage."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from catalog import services
from security.models import Grade
from tests.accounts.factories import OrganizationFactory, UserFactory
from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role

from . import factories as f

pytestmark = pytest.mark.django_db

OPEN_UNCONDITIONAL = "公交线路站点信息"
OPEN_CONDITIONAL = "公共停车场泊位信息"
NOT_OPEN = "户籍人口基本信息"
L4 = "公民身份敏感登记信息"
OPEN = {OPEN_UNCONDITIONAL, OPEN_CONDITIONAL}
HIDDEN = {NOT_OPEN, L4}


@pytest.fixture
def world(agency, city):
    """Four published entries: two open (L1 unconditionally, L2 under conditions), one
    不予开放 (L2) and one L4 (never open)."""
    return {
        OPEN_UNCONDITIONAL: f.make_published(
            agency,
            city.reviewer,
            name=OPEN_UNCONDITIONAL,
            grade=f.grade("L1"),
            share_type="unconditional",
            share_conditions="",
            open_type="unconditional",
            open_legal_basis="",
        ),
        OPEN_CONDITIONAL: f.make_published(
            agency,
            city.reviewer,
            name=OPEN_CONDITIONAL,
            open_type="conditional",
            open_conditions="经审批后开放。",
            open_legal_basis="",
        ),
        NOT_OPEN: f.make_published(agency, city.reviewer, name=NOT_OPEN),
        L4: f.make_published(agency, city.reviewer, name=L4, grade=f.grade("L4")),
    }


def _company() -> Organization:
    return OrganizationFactory(kind=Organization.Kind.USER_ORG)


PUBLIC_VIEWERS = {
    "anonymous": lambda: None,
    "requester of a company": lambda: UserFactory(organization=_company(), roles=[Role.REQUESTER]),
    "operator": lambda: UserFactory(
        organization=OrganizationFactory(kind=Organization.Kind.OPERATOR),
        roles=[Role.OPERATOR, Role.REQUESTER],
    ),
}
GOVERNMENT_VIEWERS = {
    "staff of another agency": lambda: f.make_agency().staff,
    "data officer of another agency": lambda: f.make_agency().admin,
    "city reviewer": lambda: f.make_city_bureau().reviewer,
    "district reviewer": lambda: f.make_district_bureau().reviewer,
    "security admin": lambda: UserFactory(roles=[Role.SECURITY_ADMIN]),
    "auditor": lambda: UserFactory(roles=[Role.AUDITOR]),
    "system admin": lambda: UserFactory(roles=[Role.SYSTEM_ADMIN]),
    "requester of an agency": lambda: UserFactory(roles=[Role.REQUESTER]),
}


def client_for(user) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def listed(c: Client, **params) -> tuple[set[str], int, dict]:
    response = c.get("/catalog/", params)
    assert response.status_code == 200
    names = {e.name for e in response.context["page_obj"].object_list}
    facets = {
        name: {v.value: v.count for v in values}
        for name, _label, values, _qs in response.context["facets"]
    }
    return names, response.context["total"], facets


def exported(c: Client, **params) -> set[str]:
    response = c.get("/catalog/export.xlsx", params)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    return {row[1] for row in list(sheet.iter_rows(values_only=True))[1:]}


def api_names(c: Client, **params) -> tuple[set[str], int]:
    response = c.get("/api/v1/catalog/resources/", params)
    assert response.status_code == 200
    body = response.json()
    return {r["name"] for r in body["results"]}, body["count"]


def pages_of(version) -> list[str]:
    return [
        f"/catalog/resources/{version.resource_id}/",
        f"/catalog/versions/{version.pk}/",
        f"/catalog/resources/{version.resource_id}/versions/",
    ]


@pytest.mark.parametrize("viewer", PUBLIC_VIEWERS)
def test_public_sees_the_open_catalog_only_through_every_door(viewer, world):
    c = client_for(PUBLIC_VIEWERS[viewer]())

    names, total, facets = listed(c)
    assert (names, total) == (OPEN, 2)
    page = c.get("/catalog/").content.decode()
    for name in HIDDEN:
        assert name not in page
    # The facet counts add up to the open entries and name no hidden value.
    for facet, counts in facets.items():
        assert sum(counts.values()) == 2, facet
    assert set(facets["open_type"]) == {"unconditional", "conditional"}
    assert str(f.grade("L4").pk) not in facets["grade"]

    for name in HIDDEN:
        assert listed(c, q=name)[:2] == (set(), 0)
        assert exported(c, q=name) == set()
        assert api_names(c, q=name) == (set(), 0)
        for path in pages_of(world[name]):
            assert c.get(path).status_code == 404, path
    for name in OPEN:
        assert listed(c, q=name)[:2] == ({name}, 1)
        for path in pages_of(world[name]):
            assert c.get(path).status_code == 200, path

    assert exported(c) == OPEN
    assert api_names(c) == (OPEN, 2)
    assert api_names(c, open_type="none") == (set(), 0)
    assert listed(c, grade=f.grade("L4").pk)[:2] == (set(), 0)


@pytest.mark.parametrize("viewer", GOVERNMENT_VIEWERS)
def test_government_users_see_the_whole_published_catalog(viewer, world):
    c = client_for(GOVERNMENT_VIEWERS[viewer]())
    names, total, facets = listed(c)
    assert (names, total) == (OPEN | HIDDEN, 4)
    assert facets["open_type"] == {"unconditional": 1, "conditional": 1, "none": 2}
    for name in HIDDEN:
        assert listed(c, q=name)[:2] == ({name}, 1)
        for path in pages_of(world[name]):
            assert c.get(path).status_code == 200, path
    assert exported(c) == OPEN | HIDDEN
    assert api_names(c) == (OPEN | HIDDEN, 4)


def test_api_token_of_a_government_user_sees_the_whole_catalog(world, city):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=city.reviewer)
    response = Client().get("/api/v1/catalog/resources/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.json()["count"] == 4


def test_cached_facet_counts_are_kept_apart_per_audience(world, city, settings):
    settings.CATALOG_FACET_CACHE_SECONDS = 600
    government = client_for(city.reviewer)
    public = Client()
    # Whoever asks first, the other audience gets its own counts, not the cached ones.
    assert listed(government)[1] == 4
    names, total, facets = listed(public)
    assert (total, sum(facets["open_type"].values())) == (2, 2)
    assert listed(government)[1] == 4
    cache.clear()
    assert listed(public)[1] == 2
    assert listed(government)[1] == 4
    assert listed(public, q="信息")[1] == 2
    assert listed(government, q="信息")[1] == 4


def test_a_grade_that_no_longer_allows_opening_takes_its_entries_out(agency, city):
    version = f.make_published(
        agency,
        city.reviewer,
        name="较敏感的开放信息",
        grade=f.grade("L3"),
        open_type="conditional",
        open_conditions="在受控区域内脱敏后开放。",
        open_legal_basis="",
    )
    c = Client()
    assert listed(c)[1] == 1
    Grade.objects.filter(code="L3").update(may_open_conditionally=False)
    assert listed(c)[:2] == (set(), 0)
    assert c.get(f"/catalog/resources/{version.resource_id}/").status_code == 404


def test_public_sees_no_version_of_a_resource_that_closed(agency, city):
    """v1 was open, v2 is not: the resource and both versions are out of the open catalog."""
    v1 = f.make_published(
        agency,
        city.reviewer,
        name=OPEN_CONDITIONAL,
        open_type="conditional",
        open_conditions="经审批后开放。",
        open_legal_basis="",
    )
    draft = services.resource_revise(resource=v1.resource, acting_user=agency.staff)
    services.resource_draft_update(
        version=draft,
        acting_user=agency.staff,
        fields=f.valid_fields(name=OPEN_CONDITIONAL),
        items=f.valid_items(),
    )
    v2 = f.publish(draft, agency, city.reviewer)
    c = Client()
    for path in pages_of(v1) + pages_of(v2):
        assert c.get(path).status_code == 404, path
    assert client_for(city.reviewer).get(f"/catalog/versions/{v1.pk}/").status_code == 200


def test_public_sees_only_the_open_versions_of_a_resource_that_opened(agency, city):
    v1 = f.make_published(agency, city.reviewer, name="曾不予开放的信息")
    draft = services.resource_revise(resource=v1.resource, acting_user=agency.staff)
    services.resource_draft_update(
        version=draft,
        acting_user=agency.staff,
        fields=f.valid_fields(
            name="现已开放的信息",
            open_type="conditional",
            open_conditions="经审批后开放。",
            open_legal_basis="",
        ),
        items=f.valid_items(),
    )
    v2 = f.publish(draft, agency, city.reviewer)
    c = Client()
    assert c.get(f"/catalog/resources/{v1.resource_id}/").status_code == 200
    assert c.get(f"/catalog/versions/{v2.pk}/").status_code == 200
    assert c.get(f"/catalog/versions/{v1.pk}/").status_code == 404
    history = c.get(f"/catalog/resources/{v1.resource_id}/versions/")
    assert [v.pk for v in history.context["versions"]] == [v2.pk]


def test_related_resources_hidden_from_the_public_are_not_named(agency, city, world):
    hidden = world[NOT_OPEN].resource
    version = services.resource_draft_create(
        acting_user=agency.staff,
        provider=agency.org,
        classification=f.classification("101"),
        fields=f.valid_fields(
            name="与户籍相关的开放信息",
            open_type="conditional",
            open_conditions="经审批后开放。",
            open_legal_basis="",
        ),
        items=f.valid_items(),
        related=[hidden, world[OPEN_UNCONDITIONAL].resource],
    )
    version = f.publish(version, agency, city.reviewer)
    for path in (f"/catalog/resources/{version.resource_id}/", f"/catalog/versions/{version.pk}/"):
        public = Client().get(path).content.decode()
        assert world[OPEN_UNCONDITIONAL].resource.code in public
        assert hidden.code not in public
        assert hidden.code in client_for(city.reviewer).get(path).content.decode()


def test_feedback_can_only_name_a_resource_the_requester_sees(world):
    requester = UserFactory(organization=_company(), roles=[Role.REQUESTER])
    c = client_for(requester)
    hidden = world[NOT_OPEN].resource_id
    assert c.get("/catalog/feedback/new/", {"resource": hidden}).status_code == 404
    response = c.post(
        "/catalog/feedback/new/",
        {"resource": hidden, "kind": "error", "description": "名称有误。"},
    )
    assert response.status_code == 404
    shown = world[OPEN_CONDITIONAL].resource_id
    assert c.get("/catalog/feedback/new/", {"resource": shown}).status_code == 200


def test_district_releases_show_the_public_only_open_entries(district_agency, district):
    shown = f.make_draft(
        district_agency,
        name="江岸区公园名录",
        open_type="conditional",
        open_conditions="经审批后开放。",
        open_legal_basis="",
    )
    hidden = f.make_draft(district_agency, name="江岸区低保人员信息")
    for version in (shown, hidden):
        version = f.approve(version, district_agency)
        services.resource_transition(
            version=version, action="review", acting_user=district.reviewer
        )
    release = f.committed(services.district_release_publish, acting_user=district.reviewer, note="")
    public = Client()
    page = public.get(f"/catalog/releases/{release.pk}/").content.decode()
    assert "江岸区公园名录" in page
    assert "江岸区低保人员信息" not in page
    rows = {d.code: (r, n) for d, r, n in public.get("/catalog/releases/").context["rows"]}
    release_row, published = rows[f.JIANGAN]
    assert (release_row.n, published) == (1, 1)
    government = client_for(district.reviewer)
    assert (
        "江岸区低保人员信息" in government.get(f"/catalog/releases/{release.pk}/").content.decode()
    )
    rows = {d.code: (r, n) for d, r, n in government.get("/catalog/releases/").context["rows"]}
    assert (rows[f.JIANGAN][0].n, rows[f.JIANGAN][1]) == (2, 2)


def test_home_page_leads_the_public_to_the_open_catalog(db):
    page = Client().get("/").content.decode()
    assert 'href="/catalog/"' in page
    assert "tag-info" not in page  # no card says "coming soon" (test_home_public.py: more)


def _queries(c: Client) -> list[int]:
    counts = []
    for path, params in [
        ("/catalog/", {}),
        ("/catalog/", {"q": "信息"}),
        ("/api/v1/catalog/resources/", {}),
        ("/catalog/export.xlsx", {}),
    ]:
        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            response = c.get(path, params)
            if path.endswith(".xlsx"):
                b"".join(response.streaming_content)
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    return counts


def test_list_queries_do_not_grow_with_rows_for_either_audience(agency, city):
    def publish(n: int, start: int) -> None:
        for i in range(start, start + n):
            extra = (
                {"open_type": "conditional", "open_conditions": "经审批。", "open_legal_basis": ""}
                if i % 2
                else {}
            )
            f.make_published(agency, city.reviewer, name=f"第{i:02d}号人口信息", **extra)

    public, government = Client(), client_for(UserFactory(roles=[Role.AUDITOR]))
    publish(4, 0)
    before = (_queries(public), _queries(government))
    publish(20, 4)
    assert listed(public)[1] == 12
    assert listed(government)[1] == 24
    assert (_queries(public), _queries(government)) == before
