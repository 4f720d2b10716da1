"""The public catalog search (catalog/search.py, selectors.catalog_search): Chinese words
found through character bigrams and confirmed by substring, ranking, facets, filters, and
input that must never break it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import services
from catalog.models import ResourceVersion
from catalog.selectors import CatalogQuery, catalog_search
from tests.accounts.factories import UserFactory
from tests.naughty import naughty_strings
from wuhan_pdr.accounts.models import User
from wuhan_pdr.accounts.roles import Role

from . import factories as f

pytestmark = pytest.mark.django_db


def officer() -> User:
    """A viewer who sees the whole published catalog (an auditor): these tests are about
    search; who sees which entries is tests/catalog/test_open_catalog.py's subject."""
    return User.objects.filter(groups__name=Role.AUDITOR).first() or UserFactory(
        roles=[Role.AUDITOR]
    )


def search(params: CatalogQuery, **kwargs):
    return catalog_search(params, viewer=officer(), **kwargs)


def names(q: str = "", **filters) -> list[str]:
    return [e.name for e in search(CatalogQuery(q=q, **filters), with_facets=False).entries]


@pytest.fixture
def publish(agency, city):
    """`publish(name, summary, **fields)` files and publishes an entry of `agency`."""

    def _publish(name: str, summary: str = "用于政务服务。", agency_=None, **fields):
        return f.make_published(
            agency_ or agency, city.reviewer, name=name, summary=summary, **fields
        )

    return _publish


# --- words ---------------------------------------------------------------------------------


def test_two_character_word_of_the_name_finds_the_resource(publish):
    publish("户籍人口基本信息")
    publish("法人单位登记")
    for q in ("人口", "户籍", "基本", "信息", "籍人"):
        assert names(q) == ["户籍人口基本信息"], q


def test_four_character_word_finds_the_resource(publish):
    publish("户籍人口基本信息")
    publish("人口普查汇总")
    for q in ("基本信息", "户籍人口", "人口基本"):
        assert names(q) == ["户籍人口基本信息"], q
    assert names("人口普查") == ["人口普查汇总"]
    assert names("户籍人口基本信息") == ["户籍人口基本信息"]


def test_word_only_in_the_summary_ranks_below_a_word_in_the_name(publish):
    publish("社会保障卡信息", summary="全市参保人员的卡片发放记录。")
    # Published later, so it would come first if the match in the name did not count more.
    publish("参保缴费记录", summary="按月记录缴费,关联社会保障卡号码。")
    assert names("社会保障") == ["社会保障卡信息", "参保缴费记录"]
    assert names("卡号") == ["参保缴费记录"]


def test_provider_name_finds_its_resources(agency, publish):
    publish("户籍人口基本信息")
    assert names(agency.org.name) == ["户籍人口基本信息"]


def test_bigrams_not_in_the_text_do_not_match(publish):
    publish("人口信息")
    assert names("口信") == ["人口信息"]
    assert names("人信") == []
    assert names("信人") == []


def test_bigrams_that_occur_apart_do_not_match(publish):
    # Both bigrams of 人口信 (人口, 口信) are in the name, but never next to each other.
    publish("口信服务与人口统计")
    assert names("人口") == ["口信服务与人口统计"]
    assert names("口信") == ["口信服务与人口统计"]
    assert names("人口信") == []


def test_several_words_must_all_match(publish):
    publish("户籍人口基本信息")
    publish("法人单位基本信息")
    assert names("户籍 信息") == ["户籍人口基本信息"]
    assert sorted(names("基本 信息")) == ["户籍人口基本信息", "法人单位基本信息"]
    assert names("户籍 法人") == []


def test_latin_words_match_ignoring_case(publish):
    publish("GDP季度统计", summary="Quarterly GDP by district.")
    publish("人口统计年鉴", summary="Yearly census tables.")
    for q in ("gdp", "GDP", "Gdp", "quarterly", "QUARTERLY 统计"):
        assert names(q) == ["GDP季度统计"], q
    assert names("gdq") == []


def test_single_character_still_finds_by_substring(publish):
    publish("户籍人口基本信息")
    publish("法人单位登记")
    for q in ("籍", "口"):
        assert names(q) == ["户籍人口基本信息"], q
    assert names("登") == ["法人单位登记"]
    assert names("鱼") == []


def test_single_character_with_a_word_must_match_both(publish):
    publish("户籍人口基本信息")
    publish("人口普查汇总")
    assert names("籍 人口") == ["户籍人口基本信息"]


def test_empty_search_lists_newest_first(publish):
    publish("户籍人口基本信息")
    publish("法人单位登记")
    assert names("") == ["法人单位登记", "户籍人口基本信息"]
    assert names("   ") == ["法人单位登记", "户籍人口基本信息"]


# --- facets and filters --------------------------------------------------------------------


@pytest.fixture
def catalog(agency, other_agency, district_agency, city, district):
    """Four published entries with varied providers, share and open types, grades and cycles."""
    neutral = "用于政务服务。"
    return {
        "population": f.make_published(
            agency, city.reviewer, name="户籍人口基本信息", summary=neutral
        ),
        "households": f.make_published(
            agency,
            city.reviewer,
            name="家庭户人口信息",
            summary=neutral,
            grade=f.grade("L1"),
            share_type="unconditional",
            share_conditions="",
            open_type="unconditional",
            open_legal_basis="",
            update_cycle="yearly",
        ),
        "schools": f.make_published(
            other_agency,
            city.reviewer,
            name="学校名录信息",
            summary=neutral,
            classification_code="204",
            share_type="unconditional",
            share_conditions="",
        ),
        "aid": f.make_published(
            district_agency,
            district.reviewer,
            name="江岸区低保人口信息",
            summary=neutral,
            grade=f.grade("L3"),
            update_cycle="daily",
        ),
    }


def _counts(result, facet: str) -> dict[str, int]:
    return {v.value: v.count for v in result.facets[facet]}


def test_facets_count_per_value_follow_the_search_and_sum_to_the_total(
    agency, other_agency, district_agency, catalog
):
    result = search(CatalogQuery())
    assert result.total == 4 == len(result.entries)
    assert _counts(result, "provider") == {
        str(agency.org.pk): 2,
        str(other_agency.org.pk): 1,
        str(district_agency.org.pk): 1,
    }
    assert _counts(result, "share_type") == {"conditional": 2, "unconditional": 2}
    assert _counts(result, "open_type") == {"none": 3, "unconditional": 1}
    assert _counts(result, "update_cycle") == {"monthly": 2, "yearly": 1, "daily": 1}
    assert _counts(result, "division") == {"420100": 3, f.JIANGAN: 1}
    grades = {v.label.split()[0]: v.count for v in result.facets["grade"]}
    assert grades == {"L1": 1, "L2": 2, "L3": 1}
    for facet, values in result.facets.items():
        assert sum(v.count for v in values) == result.total, facet
    labels = {v.value: v.label for v in result.facets["provider"]}
    assert labels[str(agency.org.pk)] == agency.org.name

    # The facets follow the search.
    result = search(CatalogQuery(q="人口"))
    assert result.total == 3 == result.entries.count()
    assert sorted(e.name for e in result.entries) == [
        "家庭户人口信息",
        "户籍人口基本信息",
        "江岸区低保人口信息",
    ]
    for facet, values in result.facets.items():
        assert sum(v.count for v in values) == 3, facet
    assert _counts(result, "provider")[str(agency.org.pk)] == 2

    # No match: nothing counted.
    result = search(CatalogQuery(q="不存在的资源"))
    assert result.total == 0
    assert list(result.entries) == []
    assert all(values == [] for values in result.facets.values())

    # A selected filter is marked in its facet.
    result = search(CatalogQuery(share_type="unconditional"))
    assert [(v.value, v.selected) for v in result.facets["share_type"]] == [("unconditional", True)]


FILTERS = {
    "provider": (lambda w: {"provider": w["other_agency"].org.pk}, ["schools"]),
    "division": (lambda w: {"division": f.JIANGAN}, ["aid"]),
    "classification": (lambda w: {"classification": f.classification("204").pk}, ["schools"]),
    "share_type": (lambda w: {"share_type": "unconditional"}, ["households", "schools"]),
    "open_type": (lambda w: {"open_type": "unconditional"}, ["households"]),
    "grade": (lambda w: {"grade": f.grade("L3").pk}, ["aid"]),
    "update_cycle": (lambda w: {"update_cycle": "daily"}, ["aid"]),
    "search_and_filter": (
        lambda w: {"q": "人口", "share_type": "conditional"},
        ["population", "aid"],
    ),
}


def test_each_filter_narrows_the_results(agency, other_agency, catalog):
    for name, (make_params, expected) in FILTERS.items():
        params = CatalogQuery(**make_params({"agency": agency, "other_agency": other_agency}))
        result = search(params)
        assert sorted(e.name for e in result.entries) == sorted(
            catalog[k].name for k in expected
        ), name
        assert result.total == len(expected), name


def test_drafts_and_entries_under_review_are_never_in_public_results(agency, city):
    f.make_draft(agency, name="草稿人口信息")
    f.approve(f.make_draft(agency, name="待审人口信息"), agency)
    reviewed = f.approve(f.make_draft(agency, name="已审人口信息"), agency)
    f.services.resource_transition(version=reviewed, action="review", acting_user=city.reviewer)
    assert ResourceVersion.objects.filter(name__contains="人口信息").count() == 3
    for q in ("", "人口", "人口信息", "草稿", "口"):
        result = search(CatalogQuery(q=q))
        assert (result.total, list(result.entries)) == (0, []), q


def test_cached_facet_counts_are_refreshed_by_publication_and_retirement(city, publish, settings):
    settings.CATALOG_FACET_CACHE_SECONDS = 600
    publish("户籍人口基本信息")
    assert search(CatalogQuery()).total == 1
    with CaptureQueriesContext(connection) as ctx:
        assert search(CatalogQuery()).total == 1
    assert not any("GROUPING SETS" in q["sql"] for q in ctx.captured_queries), (
        "facets were counted again"
    )

    version = publish("法人单位登记")
    result = search(CatalogQuery())
    assert (result.total, result.entries.count()) == (2, 2)

    f.committed(
        services.resource_transition,
        version=version,
        action="retire",
        acting_user=city.reviewer,
        comment="停止采集",
    )
    result = search(CatalogQuery())
    assert (result.total, [e.name for e in result.entries]) == (1, ["户籍人口基本信息"])
    assert sum(v.count for v in result.facets["provider"]) == 1


# --- naughty input -------------------------------------------------------------------------


def test_naughty_strings_never_break_the_search(publish):
    publish("户籍人口基本信息")
    failures = []
    for s in naughty_strings():
        try:
            result = search(CatalogQuery(q=s))
            rows = list(result.entries[:20])
            assert result.total == len(rows) or result.total > 20
        except Exception as exc:  # noqa: BLE001 - collect them all, report every one
            failures.append(f"{s!r}: {type(exc).__name__}: {exc}")
    assert failures == [], "\n".join(failures[:20])
