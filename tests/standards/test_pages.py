"""The public standards pages: data elements (search, filters, versions, where used), code
lists with values valid at a date, and the catalog pages that show items' elements."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import services as catalog_services
from catalog.models import DataElement, DataItem
from catalog.standards import services
from tests.accounts.factories import OrganizationFactory, UserFactory
from tests.naughty import naughty_strings
from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.workdays import today

from . import factories as f
from .factories import _catalog_base_data, client, day  # noqa: F401 (autouse fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def agency(db) -> f.Agency:
    return f.make_agency()


@pytest.fixture
def other_agency(db) -> f.Agency:
    return f.make_agency()


@pytest.fixture
def city(db) -> f.Bureau:
    return f.make_city_bureau()


def listed(path: str = "/standards/", user=None, **params) -> list[str]:
    response = client(user).get(path, params)
    assert response.status_code == 200
    return [f"{e.identifier} v{e.version}" for e in response.context["page_obj"].object_list]


# --- element list -------------------------------------------------------------------------------


@pytest.fixture
def elements(agency, city):
    """Three elements; 公民身份号码 has a second version."""
    id_number = f.make_element(
        agency,
        city.reviewer,
        identifier="DE01001",
        name="公民身份号码",
        english_name="citizen ID number",
        pinyin="gong min shen fen hao ma",
        synonyms="身份证号,身份证件号码",
        data_type="C",
        format="c18",
        classification="人员",
    )
    v2 = f.change_element(id_number, agency, city.reviewer, format="an18", checksum="cn_ric")
    phone = f.make_element(
        agency,
        city.reviewer,
        identifier="DE01002",
        name="联系电话",
        english_name="telephone number",
        pinyin="lian xi dian hua",
        data_type="C",
        format="c..20",
        classification="通信",
    )
    amount = f.make_element(
        agency,
        city.reviewer,
        identifier="DE01003",
        name="金额",
        english_name="amount",
        pinyin="jin e",
        data_type="N",
        format="n..12,2",
        classification="财务",
    )
    return {
        "id_v1": DataElement.objects.get(pk=id_number.pk),
        "id_v2": v2,
        "phone": phone,
        "amount": amount,
    }


def test_anyone_browses_the_current_version_of_each_element(elements):
    assert listed() == ["DE01001 v2", "DE01002 v1", "DE01003 v1"]
    assert listed(include_superseded="on") == [
        "DE01001 v2",
        "DE01001 v1",
        "DE01002 v1",
        "DE01003 v1",
    ]
    assert listed(status="superseded") == ["DE01001 v1"]
    page = client().get("/standards/").content.decode()
    assert "公民身份号码" in page and "an18" in page and "/standards/elements/DE01001/" in page


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("DE01002", ["DE01002 v1"]),
        ("de0100", ["DE01001 v2", "DE01002 v1", "DE01003 v1"]),
        ("身份", ["DE01001 v2"]),
        ("telephone", ["DE01002 v1"]),
        ("CITIZEN id", ["DE01001 v2"]),
        ("dian hua", ["DE01002 v1"]),
        ("证件号码", ["DE01001 v2"]),
        ("身份 电话", []),
        ("没有这个", []),
    ],
)
def test_search_covers_identifier_names_pinyin_and_synonyms(elements, q, found):
    assert listed(q=q) == found


def test_filters_by_status_data_type_and_classification(elements):
    assert listed(data_type="N") == ["DE01003 v1"]
    assert listed(classification="通信") == ["DE01002 v1"]
    assert listed(status="standard", data_type="C") == ["DE01001 v2", "DE01002 v1"]
    # A stale filter value is dropped, the search is kept.
    assert listed(q="金额", data_type="Q") == ["DE01003 v1"]
    choices = [
        c for c, _ in client().get("/standards/").context["form"].fields["classification"].choices
    ]
    assert choices == ["", "人员", "财务", "通信"]


def test_element_list_pages_and_says_when_nothing_matches(agency, city):
    for i in range(23):
        f.make_element(agency, city.reviewer, identifier=f"DE02{i:03d}")
    assert len(listed()) == 20
    assert listed(page=2) == [f"DE02{i:03d} v1" for i in range(20, 23)]
    empty = client().get("/standards/", {"q": "没有这个数据元"})
    assert "No data element matches your search." in empty.content.decode()


def test_empty_standard_says_so():
    page = client().get("/standards/").content.decode()
    assert "No data element has been published yet." in page


# --- element page -------------------------------------------------------------------------------


def test_element_page_shows_definition_format_domain_versions_and_diff(agency, city, elements):
    code_list = f.make_code_list()
    sex = f.make_element(
        agency,
        city.reviewer,
        identifier="DE01004",
        name="性别",
        format="n1",
        domain_kind="code_list",
        code_list=code_list.identifier,
    )
    page = client().get("/standards/elements/DE01001/")
    assert page.status_code == 200
    html = page.content.decode()
    assert page.context["element"] == elements["id_v2"]
    assert [v.version for v in page.context["versions"]] == [2, 1]
    assert "用于测试的数据元。" in html and "an18" in html
    assert today().isoformat() in html
    # The field diff between versions 1 and 2.
    changes = {c.label: (c.old, c.new) for c in page.context["versions"][0].changes}
    assert changes["format"] == ("c18", "an18")
    assert changes["checksum rule"] == ("None", "Citizen ID number (GB 11643)")
    # History: the supersede move and the saves.
    assert [(e.transition, e.element_version) for e in page.context["events"]] == [("supersede", 1)]
    assert len(page.context["history"]) == 3  # v1 created, v1 superseded, v2 created
    # An older version on request, with a pointer to the latest.
    old = client().get("/standards/elements/DE01001/?version=1")
    assert (
        old.context["element"] == elements["id_v1"]
        and "The latest version is 2." in old.content.decode()
    )
    # A code-list domain links to the code list.
    html = client().get("/standards/elements/DE01004/").content.decode()
    assert f'href="/standards/code-lists/{code_list.pk}/"' in html
    assert sex.code_list == code_list


def test_element_page_shows_a_pattern_domain(agency, city):
    f.make_element(
        agency,
        city.reviewer,
        identifier="DE01005",
        name="手机号码",
        format="n11",
        domain_kind="pattern",
        pattern="1[3-9][0-9]{9}",
    )
    html = client().get("/standards/elements/DE01005/").content.decode()
    assert "<code>1[3-9][0-9]{9}</code>" in html


def test_unknown_element_is_404():
    assert client().get("/standards/elements/DE99999/").status_code == 404
    assert client().get("/standards/elements/%00/").status_code == 404


def test_where_used_shows_published_items_to_all_and_own_drafts_to_the_agency(
    agency, other_agency, city
):
    element = f.make_element(agency, city.reviewer, identifier="DE01006", name="姓名")
    published = f.make_published_using(element, agency, city.reviewer, name="已发布资源")
    own_draft = f.make_draft_using(element, agency, name="本局草稿")
    f.make_draft_using(element, other_agency, name="他局草稿")

    def used(user=None) -> set[str]:
        return {
            i.version.name
            for i in client(user).get("/standards/elements/DE01006/").context["usage"]
        }

    assert used() == {"已发布资源"}
    assert used(agency.staff) == {"已发布资源", "本局草稿"}
    assert used(other_agency.admin) == {"已发布资源", "他局草稿"}
    assert used(city.reviewer) == {"已发布资源"}
    html = client().get("/standards/elements/DE01006/").content.decode()
    assert f'href="/catalog/resources/{published.resource_id}/"' in html
    assert own_draft.name not in html


def test_where_used_names_entries_not_open_to_public_bodies_only(agency, other_agency, city):
    element = f.make_element(agency, city.reviewer, identifier="DE01012", name="姓名")
    f.make_published_using(element, agency, city.reviewer, name="开放的资源")
    hidden = f.make_published_using(
        element,
        agency,
        city.reviewer,
        name="不予开放的资源",
        open_type="none",
        open_conditions="",
        open_legal_basis="《个人信息保护法》。",
    )
    requester = UserFactory(
        organization=OrganizationFactory(kind=Organization.Kind.USER_ORG), roles=[Role.REQUESTER]
    )
    url = "/standards/elements/DE01012/"
    for user in (None, requester):
        response = client(user).get(url)
        assert {i.version.name for i in response.context["usage"]} == {"开放的资源"}
        html = response.content.decode()
        assert hidden.name not in html and hidden.resource.code not in html
    for user in (other_agency.staff, city.reviewer):
        used = {i.version.name for i in client(user).get(url).context["usage"]}
        assert used == {"开放的资源", "不予开放的资源"}


def test_element_page_offers_requests_to_agency_staff_only(agency, city, elements):
    url = "/standards/elements/DE01001/"
    assert client(agency.staff).get(url).context["can_request"]
    for user in (None, city.reviewer):
        assert not client(user).get(url).context["can_request"]
    assert "kind=change&amp;element=DE01001" in client(agency.staff).get(url).content.decode()


def test_retired_element_page_names_the_replacement(agency, other_agency, city):
    old = f.make_element(agency, city.reviewer, identifier="DE01007", name="旧电话")
    new = f.make_element(agency, city.reviewer, identifier="DE01008", name="新电话")
    f.make_published_using(old, other_agency, city.reviewer)
    f.submit_and_approve(
        f.propose(agency, "retire", element=old, replacement=new), agency, city.reviewer
    )
    html = client().get("/standards/elements/DE01007/").content.decode()
    assert (
        "This element has been retired." in html and 'href="/standards/elements/DE01008/"' in html
    )
    assert not client(agency.staff).get("/standards/elements/DE01007/").context["can_request"]


# --- catalog pages show the bound element --------------------------------------------------------


def test_items_keep_their_version_and_catalog_pages_say_a_newer_one_exists(
    agency, other_agency, city
):
    element = f.make_element(agency, city.reviewer, identifier="DE01009", name="姓名")
    entry = f.make_published_using(element, other_agency, city.reviewer)
    page = client().get(f"/catalog/resources/{entry.resource_id}/").content.decode()
    assert 'href="/standards/elements/DE01009/?version=1"' in page
    assert "Newer version exists" not in page

    f.change_element(element, agency, city.reviewer, format="c..80")
    assert entry.items.get(name="姓名").element.version == 1
    for url in (f"/catalog/resources/{entry.resource_id}/", f"/catalog/versions/{entry.pk}/"):
        html = client(other_agency.staff).get(url).content.decode()
        assert "Newer version exists" in html and "v1" in html, url


def test_catalog_pages_show_a_retired_element_with_its_replacement(agency, other_agency, city):
    old = f.make_element(agency, city.reviewer, identifier="DE01010", name="旧地址")
    new = f.make_element(agency, city.reviewer, identifier="DE01011", name="新地址")
    entry = f.make_published_using(old, other_agency, city.reviewer)
    f.submit_and_approve(
        f.propose(agency, "retire", element=old, replacement=new), agency, city.reviewer
    )
    html = client().get(f"/catalog/resources/{entry.resource_id}/").content.decode()
    assert (
        "Retired" in html
        and "Replaced by" in html
        and 'href="/standards/elements/DE01011/"' in html
    )


def _item_post(version, items: list[dict]) -> dict:
    data = {
        "name": version.name,
        "classification": version.resource.classification_id,
        "summary": version.summary,
        "source_system": version.source_system,
        "format": version.format,
        "grade": version.grade_id,
        "share_type": version.share_type,
        "share_conditions": version.share_conditions,
        "share_method": version.share_method,
        "open_type": version.open_type,
        "open_legal_basis": version.open_legal_basis,
        "update_cycle": version.update_cycle,
        "update_mode": version.update_mode,
        "items-TOTAL_FORMS": len(items),
        "items-INITIAL_FORMS": len(items),
        "items-MIN_NUM_FORMS": 0,
        "items-MAX_NUM_FORMS": 500,
        "save": "1",
    }
    for i, item in enumerate(items):
        for k, v in item.items():
            if v not in (None, False):
                data[f"items-{i}-{k}"] = v.pk if hasattr(v, "pk") else v
    return data


def test_filing_form_binds_items_to_current_elements_and_keeps_an_older_binding(agency, city):
    element = f.make_element(agency, city.reviewer, identifier="DE01012", name="姓名")
    other = f.make_element(
        agency, city.reviewer, identifier="DE01013", name="出生日期", format="YYYY-MM-DD"
    )
    draft = f.make_draft_using(element, agency)
    f.change_element(element, agency, city.reviewer, format="c..80")
    c = client(agency.staff)
    form_page = c.get(f"/catalog/versions/{draft.pk}/edit/")
    formset = form_page.context["formset"]
    bound_row = formset.forms[1]
    assert bound_row["element"].value() == element.pk
    labels = dict(bound_row.fields["element"].choices)
    assert labels[element.pk] == "DE01012 姓名 (v1, Superseded)"  # the older version stays offered
    new_row_labels = [label for _, label in formset.forms[0].fields["element"].choices]
    assert "DE01012 姓名 (v2)" in new_row_labels and "DE01012 姓名 (v1)" not in new_row_labels
    assert "DE01013 出生日期 (v1)" in new_row_labels

    # Saved unchanged: the item keeps version 1; another item binds to 出生日期.
    items = [
        {k: getattr(i, k) for k in catalog_services.ITEM_FIELDS}
        for i in draft.items.order_by("position")
    ]
    items[2]["element"] = other
    response = c.post(f"/catalog/versions/{draft.pk}/edit/", _item_post(draft, items))
    assert response.status_code == 302, response.context and response.context["formset"].errors
    bound = dict(DataItem.objects.filter(version=draft).values_list("name", "element_id"))
    assert bound == {"公民身份号码": None, "姓名": element.pk, "更新时间": other.pk}


def test_catalog_diff_shows_an_item_moving_to_a_newer_element_version(agency, city):
    element = f.make_element(agency, city.reviewer, identifier="DE01014", name="姓名")
    entry = f.make_published_using(element, agency, city.reviewer)
    v2 = f.change_element(element, agency, city.reviewer, format="c..80")
    revision = catalog_services.resource_revise(resource=entry.resource, acting_user=agency.staff)
    DataItem.objects.filter(version=revision, name="姓名").update(element=v2)
    page = client(agency.staff).get(f"/catalog/versions/{revision.pk}/")
    [item_change] = page.context["changes"][1]
    assert item_change.name == "姓名"
    assert [(c.old, c.new) for c in item_change.changes] == [("DE01014 姓名 v1", "DE01014 姓名 v2")]


# --- code lists ---------------------------------------------------------------------------------


@pytest.fixture
def divisions(db):
    return f.make_code_list(
        identifier="GB/T 2260",
        name="中华人民共和国行政区划代码",
        source="GB/T 2260-2007",
        values=[
            ("420100", "武汉市", None, None),
            ("420102", "江岸区", day("1980-01-01"), None),
            ("420107", "青山区", None, None),
            ("420111", "洪山区", None, day("2019-12-31")),
            ("420111", "洪山区(调整后)", day("2020-01-01"), None),
            ("420199", "试验区", day("2030-01-01"), None),
        ],
    )


def test_code_lists_are_listed_and_searched(divisions):
    sex = f.make_code_list()
    response = client().get("/standards/code-lists/")
    assert [c.identifier for c in response.context["page_obj"].object_list] == [
        "GB/T 2260",
        "GB/T 2261.1",
    ]
    assert {c.identifier: c.n_values for c in response.context["page_obj"].object_list} == {
        "GB/T 2260": 6,
        "GB/T 2261.1": 4,
    }
    response = client().get("/standards/code-lists/", {"q": "行政区划"})
    assert [c.identifier for c in response.context["page_obj"].object_list] == ["GB/T 2260"]
    assert sex.identifier in client().get("/standards/code-lists/").content.decode()
    empty = client().get("/standards/code-lists/", {"q": "没有"}).content.decode()
    assert "No code list matches your search." in empty


def test_code_list_values_valid_at_a_date(divisions):
    url = f"/standards/code-lists/{divisions.pk}/"

    def values(**params) -> list[str]:
        response = client().get(url, params)
        assert response.status_code == 200
        return [f"{v.code} {v.name}" for v in response.context["page_obj"].object_list]

    today_values = ["420100 武汉市", "420102 江岸区", "420107 青山区", "420111 洪山区(调整后)"]
    assert values() == today_values
    assert values(at="2019-06-30") == [
        "420100 武汉市",
        "420102 江岸区",
        "420107 青山区",
        "420111 洪山区",
    ]
    assert values(at="1970-01-01") == ["420100 武汉市", "420107 青山区", "420111 洪山区"]
    assert values(at="2031-01-01")[-1] == "420199 试验区"
    assert values(at="not-a-date") == today_values  # a wrong date falls back to today
    assert values(q="洪山") == ["420111 洪山区(调整后)"]
    assert values(q="4201 洪山", at="2019-06-30") == ["420111 洪山区"]
    empty = client().get(url, {"q": "没有"}).content.decode()
    assert "No value of this code list is valid on" in empty


def test_code_list_values_are_paged(db):
    big = f.make_code_list(
        identifier="BIG", values=[(f"{i:03d}", f"值{i}", None, None) for i in range(60)]
    )
    response = client().get(f"/standards/code-lists/{big.pk}/", {"page": 2})
    assert [v.code for v in response.context["page_obj"].object_list] == [
        f"{i:03d}" for i in range(50, 60)
    ]


def test_unknown_code_list_is_404(db):
    for path in (
        "/standards/code-lists/NOPE/",
        "/standards/code-lists/999999999/",
        "/standards/code-lists/999999999/export.xlsx",
        "/standards/code-lists/%00/",
    ):
        assert client().get(path).status_code == 404, path


# --- query counts -------------------------------------------------------------------------------


def _count(url: str, user=None, **params) -> int:
    c = client(user)
    with CaptureQueriesContext(connection) as ctx:
        response = c.get(url, params)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def _publish_users(
    element, agencies, reviewer, n_resources: int, items_each: int, start: int
) -> None:
    for i in range(start, start + n_resources):
        items = [
            {
                "name": f"项{j}",
                "english_name": f"col_{j}",
                "data_type": "C",
                "length": 10,
                "element": element,
            }
            for j in range(items_each)
        ]
        items[0]["is_key"] = True
        f.cf.make_published(
            agencies[i % len(agencies)], reviewer, items=items, name=f"资源{i:02d}", **f.OPEN
        )


def test_element_list_and_page_queries_do_not_grow_with_rows(agency, city):
    agencies = [f.make_agency() for _ in range(3)]
    for i in range(5):
        f.make_element(
            agency, city.reviewer, identifier=f"DE03{i:03d}", classification=f"类{i % 3}"
        )
    target = services.current_version("DE03000")
    f.change_element(target, agency, city.reviewer, format="c..60")
    target = services.current_version("DE03000")
    _publish_users(target, agencies, city.reviewer, n_resources=5, items_each=1, start=0)

    def counts() -> dict[str, int]:
        return {
            "list": _count("/standards/"),
            "list q": _count("/standards/", q="测试", include_superseded="on"),
            "page": _count("/standards/elements/DE03000/"),
            "page staff": _count("/standards/elements/DE03000/", agencies[0].staff),
            "api": _count("/api/v1/standards/elements/"),
        }

    at_5 = counts()
    for i in range(5, 30):
        f.make_element(
            agency, city.reviewer, identifier=f"DE03{i:03d}", classification=f"类{i % 3}"
        )
    _publish_users(target, agencies, city.reviewer, n_resources=5, items_each=5, start=5)
    at_30 = counts()
    assert len(client().get("/standards/elements/DE03000/").context["usage"]) == 30
    assert client().get("/standards/").context["page_obj"].paginator.count == 30
    assert at_30 == at_5


# --- naughty input -----------------------------------------------------------------------------


def test_naughty_searches_never_give_a_server_error(agency, city, divisions):
    """Every naughty string as the element search; a sample of them on the other lists (each
    page costs ~50 ms in the test client, the whole list on every page would take minutes)."""
    f.make_element(agency, city.reviewer, identifier="DE04001", name="姓名")
    c = client(agency.staff)
    c.raise_request_exception = False
    strings = [*naughty_strings(), "\x00", "人\x00口", "%00", "a" * 5000]
    others = [
        "/standards/code-lists/",
        f"/standards/code-lists/{divisions.pk}/",
        "/standards/requests/",
    ]
    for i, s in enumerate(strings):
        for url in ["/standards/", *(others if i % 10 == 0 or i >= len(strings) - 4 else [])]:
            response = c.get(url, {"q": s, "at": s, "status": s, "include_superseded": s})
            assert response.status_code == 200, (url, repr(s), getattr(response, "exc_info", None))
