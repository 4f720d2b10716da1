"""GET /api/v1/standards/elements/: the data-element standard as JSON, public, DRF pages."""

from __future__ import annotations

import json

import pytest

from catalog.models import DataElement
from tests.naughty import naughty_strings

from . import factories as f
from .factories import _catalog_base_data, client  # noqa: F401 (autouse fixture)

pytestmark = pytest.mark.django_db
URL = "/api/v1/standards/elements/"


@pytest.fixture
def agency(db) -> f.Agency:
    return f.make_agency()


@pytest.fixture
def city(db) -> f.Bureau:
    return f.make_city_bureau()


@pytest.fixture
def elements(agency, city) -> dict[str, DataElement]:
    id_number = f.make_element(
        agency,
        city.reviewer,
        identifier="DE05001",
        name="公民身份号码",
        english_name="citizen ID number",
        pinyin="gong min shen fen hao ma",
        synonyms="身份证号",
        format="c18",
    )
    v2 = f.change_element(id_number, agency, city.reviewer, format="an18")
    phone = f.make_element(
        agency,
        city.reviewer,
        identifier="DE05002",
        name="联系电话",
        english_name="telephone number",
        format="c..20",
    )
    return {"id_v2": v2, "phone": phone}


def test_search_returns_a_drf_page_of_current_elements(elements):
    response = client().get(URL, {"q": "身份证"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert (body["count"], body["next"], body["previous"]) == (1, None, None)
    assert body["results"] == [
        {
            "identifier": "DE05001",
            "name": "公民身份号码",
            "english_name": "citizen ID number",
            "version": 2,
            "status": "standard",
            "data_type": "C",
            "format": "an18",
        }
    ]


def test_every_word_matches_identifier_names_or_pinyin(elements):
    def found(**params) -> list[str]:
        return [
            f"{r['identifier']} v{r['version']}"
            for r in client().get(URL, params).json()["results"]
        ]

    assert found() == ["DE05001 v2", "DE05002 v1"]
    assert found(q="telephone") == ["DE05002 v1"]
    assert found(q="de05001") == ["DE05001 v2"]
    assert found(q="shen fen") == ["DE05001 v2"]
    assert found(q="没有") == []
    assert found(include_superseded="true") == ["DE05001 v2", "DE05001 v1", "DE05002 v1"]
    assert found(status="superseded") == ["DE05001 v1"]


def test_pages_of_twenty(agency, city):
    for i in range(23):
        f.make_element(agency, city.reviewer, identifier=f"DE06{i:03d}")
    body = client().get(URL).json()
    assert (body["count"], len(body["results"]), body["previous"]) == (23, 20, None)
    assert body["next"].endswith(f"{URL}?page=2")
    second = client().get(URL, {"page": 2}).json()
    assert [r["identifier"] for r in second["results"]] == ["DE06020", "DE06021", "DE06022"]


def test_anonymous_read_only(elements):
    assert client().post(URL, {"identifier": "X"}).status_code in (401, 403, 405)
    assert client().get(URL).status_code == 200


def test_schema_describes_the_endpoint():
    schema = client().get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    document = json.loads(schema.content)
    operation = document["paths"][URL]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"q", "page", "status", "data_type"}
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    page = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"count", "next", "previous", "results"} <= set(page["properties"])
    item_ref = page["properties"]["results"]["items"]["$ref"]
    item = document["components"]["schemas"][item_ref.rsplit("/", 1)[1]]
    assert set(item["properties"]) == {
        "identifier",
        "name",
        "english_name",
        "version",
        "status",
        "data_type",
        "format",
    }


def test_naughty_searches_never_give_a_server_error(elements):
    strings = naughty_strings()
    c = client()
    c.raise_request_exception = False
    for s in [*strings, "\x00", "人\x00口", "%00", "a" * 5000]:
        response = c.get(URL, {"q": s, "status": s, "page": 1})
        assert response.status_code == 200, repr(s)
        assert set(response.json()) == {"count", "next", "previous", "results"}
