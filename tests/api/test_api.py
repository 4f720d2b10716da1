"""The REST API: the public organization directory, the caller's own account, the schema
and its documentation page."""

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from tests.accounts.factories import OrganizationFactory, UserFactory, division
from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.accounts.services import api_token_regenerate, api_token_revoke

pytestmark = pytest.mark.django_db

ORGS = "/api/v1/organizations/"
ME = "/api/v1/me/"


def body(response):
    return json.loads(response.content)


def names(response) -> set[str]:
    return {o["name"] for o in body(response)["results"]}


# --- organizations (public) -----------------------------------------------------------------


def test_organization_list_is_public_and_paginated(client):
    OrganizationFactory.create_batch(25)

    first = client.get(ORGS)

    assert first.status_code == 200
    data = body(first)
    assert set(data) == {"count", "next", "previous", "results"}
    assert data["count"] == 25
    assert len(data["results"]) == 20
    assert data["previous"] is None
    assert data["next"].endswith("/api/v1/organizations/?page=2")
    second = body(client.get(ORGS, {"page": 2}))
    assert len(second["results"]) == 5
    assert second["next"] is None


def test_organization_list_shows_the_public_fields(client):
    org = OrganizationFactory(name="武汉市水务局", short_name="水务局", division=division("420102"))

    result = body(client.get(ORGS))["results"][0]

    assert result == {
        "id": org.pk,
        "name": "武汉市水务局",
        "short_name": "水务局",
        "kind": "city_agency",
        "credit_code": org.credit_code,
        "division_code": "420102",
        "division_name": "江岸区",
        "parent": None,
    }
    assert "address" not in result


def test_organization_detail_is_public(client):
    org = OrganizationFactory()
    response = client.get(f"{ORGS}{org.pk}/")
    assert response.status_code == 200
    assert body(response)["credit_code"] == org.credit_code


def test_inactive_organizations_are_not_listed(client):
    OrganizationFactory(name="已撤销局", is_active=False)
    OrganizationFactory(name="在用局")
    assert names(client.get(ORGS)) == {"在用局"}


def test_organizations_filter_by_kind(client):
    OrganizationFactory(name="区数据局", kind=Organization.Kind.DISTRICT_BUREAU)
    OrganizationFactory(name="市民政局", kind=Organization.Kind.CITY_AGENCY)

    assert names(client.get(ORGS, {"kind": "district_bureau"})) == {"区数据局"}


def test_organizations_filter_by_division_code(client):
    OrganizationFactory(name="江岸区民政局", division=division("420102"))
    OrganizationFactory(name="洪山区民政局", division=division("420111"))

    assert names(client.get(ORGS, {"division": "420111"})) == {"洪山区民政局"}
    assert names(client.get(ORGS, {"division": "999999"})) == set()


def test_organizations_search_by_name_or_credit_code(client):
    water = OrganizationFactory(name="武汉市水务局")
    OrganizationFactory(name="武汉市教育局")

    assert names(client.get(ORGS, {"q": "水务"})) == {"武汉市水务局"}
    assert names(client.get(ORGS, {"q": water.credit_code[-8:]})) == {"武汉市水务局"}


def test_organizations_are_read_only(client, system_admin):
    client.force_login(system_admin)
    response = client.post(ORGS, {"name": "x"}, content_type="application/json")
    assert response.status_code == 405
    assert not Organization.objects.filter(name="x").exists()


# --- me -----------------------------------------------------------------------------------------


def test_me_refuses_anonymous_callers(client):
    assert client.get(ME).status_code in (401, 403)


def test_me_answers_with_the_session(client, agency_a):
    user = UserFactory(username="wangfang", organization=agency_a, roles=[Role.AGENCY_ADMIN])
    client.force_login(user)

    data = body(client.get(ME))

    assert data["username"] == "wangfang"
    assert data["roles"] == ["agency_admin"]
    assert data["organization"]["name"] == agency_a.name


def test_me_answers_with_an_api_token(staff_a):
    token = api_token_regenerate(acting_user=staff_a)

    response = Client(HTTP_AUTHORIZATION=f"Token {token.key}").get(ME)

    assert response.status_code == 200
    assert body(response)["username"] == "staff_a"


def test_regenerating_the_token_invalidates_the_old_one(staff_a):
    old = api_token_regenerate(acting_user=staff_a)
    new = api_token_regenerate(acting_user=staff_a)

    assert old.key != new.key
    assert Client(HTTP_AUTHORIZATION=f"Token {old.key}").get(ME).status_code in (401, 403)
    assert Client(HTTP_AUTHORIZATION=f"Token {new.key}").get(ME).status_code == 200


def test_revoked_token_no_longer_works(staff_a):
    token = api_token_regenerate(acting_user=staff_a)
    assert api_token_revoke(acting_user=staff_a) == 1
    assert Client(HTTP_AUTHORIZATION=f"Token {token.key}").get(ME).status_code in (401, 403)


def test_profile_page_creates_a_token_shown_once(staff_a, login):
    client = login(staff_a)

    response = client.post("/accounts/profile/token/")
    assert response.status_code == 302

    shown = client.get("/accounts/profile/")
    key = shown.context["new_token"]
    assert key and staff_a.auth_token.key == key
    assert client.get("/accounts/profile/").context["new_token"] is None
    assert Client(HTTP_AUTHORIZATION=f"Token {key}").get(ME).status_code == 200


# --- schema and docs ----------------------------------------------------------------------------


def test_schema_is_an_openapi_document(client):
    response = client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = body(response)
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Wuhan Public Data Resource Platform API"
    assert {"/api/v1/organizations/", "/api/v1/me/"} <= set(schema["paths"])


def test_docs_page_loads_everything_from_this_site(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    references = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert references
    external = [r for r in references if re.match(r"^(?:[a-z]+:)?//", r, re.I)]
    assert external == []
    assert not re.search(r"https?://(?!localhost|127\.0\.0\.1|testserver)", html)
    for ref in references:
        if ref.startswith("/static/"):
            assert finders.find(ref.removeprefix("/static/")), f"{ref} is not a static file"
