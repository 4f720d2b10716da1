"""District catalog releases (Art. 13): a district bureau's reviewer publishes the reviewed
entries of its district's agencies in a numbered, dated release that snapshots every published
entry of the district; the city view lists each of Wuhan's 13 districts with its latest
release. Who may release, what a release holds, and the pages' query counts."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from catalog import selectors, services
from catalog.models import CatalogEntry, DistrictRelease, ResourceVersion
from tests.accounts.factories import OrganizationFactory, UserFactory
from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.errors import AccessDenied
from wuhan_pdr.kernel.models import Notification

from . import factories as f
from .test_feedback import naughty_strings

pytestmark = pytest.mark.django_db
S = ResourceVersion.State

WUHAN_DISTRICTS = {
    "420102": "江岸区",
    "420103": "江汉区",
    "420104": "硚口区",
    "420105": "汉阳区",
    "420106": "武昌区",
    "420107": "青山区",
    "420111": "洪山区",
    "420112": "东西湖区",
    "420113": "汉南区",
    "420114": "蔡甸区",
    "420115": "江夏区",
    "420116": "黄陂区",
    "420117": "新洲区",
}


def client(user=None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def reviewed(agency: f.Agency, reviewer, **fields) -> ResourceVersion:
    """A new entry of `agency`, approved by it and passed by `reviewer`: it waits for release."""
    version = f.approve(f.make_draft(agency, **fields), agency)
    version = services.resource_transition(version=version, action="review", acting_user=reviewer)
    assert version.state == S.REVIEWED
    return version


def release(reviewer, note: str = "") -> DistrictRelease:
    return services.district_release_publish(acting_user=reviewer, note=note)


def state(version) -> str:
    version.refresh_from_db()
    return version.state


def pks(versions) -> set[int]:
    return {v.pk for v in versions}


# --- what a release publishes and holds ---------------------------------------------------------


def test_release_publishes_the_reviewed_entries_of_its_district_only(
    district, district_agency, other_district, city, agency
):
    jiangan_2 = f.make_district_agency(f.JIANGAN)
    jianghan = f.make_district_agency(f.JIANGHAN)
    earlier = f.make_published(district_agency, district.reviewer, name="江岸区已发布资源")
    mine_1 = reviewed(district_agency, district.reviewer, name="江岸区待发布资源一")
    mine_2 = reviewed(jiangan_2, district.reviewer, name="江岸区待发布资源二")
    approved_only = f.approve(f.make_draft(district_agency, name="尚待区审核"), district_agency)
    draft_only = f.make_draft(jiangan_2, name="江岸区草稿")
    other_district_entry = reviewed(jianghan, other_district.reviewer, name="江汉区待发布资源")
    city_entry = reviewed(agency, city.reviewer, name="市级待发布资源")
    assert selectors.reviewed_waiting_in_district(district.org.division) == 2
    Notification.objects.all().delete()

    first = release(district.reviewer, note="  2025年第一批  ")

    assert (first.division, first.number, first.released_by) == (
        district.org.division,
        1,
        district.reviewer,
    )
    assert first.note == "2025年第一批"
    assert first.published_now == 2
    for version in (mine_1, mine_2):
        assert state(version) == S.PUBLISHED
        assert version.published_at is not None
        assert CatalogEntry.objects.filter(version=version).exists()
    assert state(approved_only) == S.AGENCY_APPROVED
    assert state(draft_only) == S.DRAFT
    assert state(other_district_entry) == S.REVIEWED  # another district's
    assert state(city_entry) == S.REVIEWED  # a city agency's
    assert pks(first.versions.all()) == pks([earlier, mine_1, mine_2])
    assert selectors.reviewed_waiting_in_district(district.org.division) == 0
    # Each entry's filer is told of the publication, as after a publication one by one.
    assert Notification.objects.filter(recipient=district_agency.staff).count() == 1
    assert Notification.objects.filter(recipient=jiangan_2.staff).count() == 1

    # The second release: numbered 2, publishing what was reviewed since, and a revision.
    mine_3 = reviewed(district_agency, district.reviewer, name="江岸区待发布资源三")
    revision = services.resource_revise(
        resource=earlier.resource, acting_user=district_agency.staff
    )
    services.resource_draft_update(
        version=revision,
        acting_user=district_agency.staff,
        fields={"change_note": "更新摘要"},
        items=f.valid_items(),
    )
    f.approve(revision, district_agency)
    services.resource_transition(version=revision, action="review", acting_user=district.reviewer)

    second = release(district.reviewer)

    assert (second.number, second.published_now, second.note) == (2, 2, "")
    assert state(revision) == S.PUBLISHED
    assert state(earlier) == S.SUPERSEDED
    # The snapshot holds the district's published entries as they are now...
    assert pks(second.versions.all()) == pks([revision, mine_1, mine_2, mine_3])
    # ...and the first release keeps what it held.
    assert pks(first.versions.all()) == pks([earlier, mine_1, mine_2])

    # Another district numbers its releases on its own.
    other = release(other_district.reviewer)
    assert (other.division.code, other.number, other.published_now) == (f.JIANGHAN, 1, 1)
    assert pks(other.versions.all()) == pks([other_district_entry])
    assert state(city_entry) == S.REVIEWED

    # A release with nothing waiting still dates a snapshot.
    third = release(district.reviewer)
    assert (third.number, third.published_now) == (3, 0)
    assert pks(third.versions.all()) == pks(second.versions.all())


def test_a_retired_entry_leaves_the_next_snapshot(district, district_agency):
    kept = f.make_published(district_agency, district.reviewer, name="保留的资源")
    gone = f.make_published(district_agency, district.reviewer, name="停用的资源")
    first = release(district.reviewer)
    services.resource_transition(
        version=gone, action="retire", acting_user=district.reviewer, comment="数据源停用"
    )
    second = release(district.reviewer)
    assert pks(first.versions.all()) == pks([kept, gone])
    assert pks(second.versions.all()) == pks([kept])


def test_publishing_with_the_release_is_recorded_per_entry(district, district_agency):
    from django.contrib.contenttypes.models import ContentType

    from wuhan_pdr.kernel.models import WorkflowEvent

    version = reviewed(district_agency, district.reviewer)
    release(district.reviewer, note="第一批")
    event = WorkflowEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(ResourceVersion), object_id=str(version.pk)
    ).latest("pk")
    assert (event.transition, event.from_state, event.to_state) == (
        "publish",
        S.REVIEWED,
        S.PUBLISHED,
    )
    assert (event.actor, event.comment) == (district.reviewer, "第一批")


# --- who may release ------------------------------------------------------------------------------


def test_district_reviewer_releases_through_the_page(district, district_agency):
    waiting = reviewed(district_agency, district.reviewer, name="江岸区婚姻登记信息")
    c = client(district.reviewer)
    page = c.get("/catalog/releases/")
    assert page.status_code == 200
    assert page.context["own_division"] == district.org.division
    assert page.context["waiting"] == 1

    response = c.post("/catalog/releases/", {"note": "年中发布"})
    made = DistrictRelease.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/catalog/releases/{made.pk}/"
    assert (made.number, made.note, made.published_now) == (1, "年中发布", 1)
    assert state(waiting) == S.PUBLISHED
    page = c.get(response["Location"]).content.decode()
    assert "江岸区婚姻登记信息" in page
    assert "年中发布" in page


def test_a_note_over_500_characters_is_refused(district, district_agency):
    waiting = reviewed(district_agency, district.reviewer)
    response = client(district.reviewer).post("/catalog/releases/", {"note": "注" * 501})
    assert response.status_code == 200
    assert "note" in response.context["form"].errors
    assert not DistrictRelease.objects.exists()
    assert state(waiting) == S.REVIEWED


def test_others_cannot_publish_a_release(district, district_agency, city, agency):
    waiting = reviewed(district_agency, district.reviewer)
    # A reviewer role held by someone who is not in a district bureau.
    misplaced = UserFactory(organization=district_agency.org, roles=[Role.DISTRICT_REVIEWER])
    city_with_district_role = UserFactory(
        organization=city.org, roles=[Role.CITY_REVIEWER, Role.DISTRICT_REVIEWER]
    )
    requester = UserFactory(
        organization=OrganizationFactory(kind=Organization.Kind.USER_ORG), roles=[Role.REQUESTER]
    )
    refused = [
        city.reviewer,
        district_agency.staff,
        district_agency.admin,
        agency.admin,
        misplaced,
        city_with_district_role,
        requester,
        None,
    ]
    for user in refused:
        page = client(user).get("/catalog/releases/")
        assert page.status_code == 200
        assert page.context["own_division"] is None  # no release form
        response = client(user).post("/catalog/releases/", {"note": "越权发布"})
        assert response.status_code == 404, user
    inactive = UserFactory(
        organization=district.org, roles=[Role.DISTRICT_REVIEWER], is_active=False
    )
    for user in [u for u in refused if u is not None] + [AnonymousUser(), inactive]:
        with pytest.raises(AccessDenied):
            release(user, note="越权发布")
    assert not DistrictRelease.objects.exists()
    assert state(waiting) == S.REVIEWED


# --- the city view and a release's page --------------------------------------------------------


def test_city_view_lists_every_wuhan_district_with_its_latest_release(
    district, district_agency, other_district
):
    jianghan = f.make_district_agency(f.JIANGHAN)
    f.make_published(district_agency, district.reviewer, name="江岸区资源甲")
    release(district.reviewer)
    reviewed(district_agency, district.reviewer, name="江岸区资源乙")
    latest_jiangan = release(district.reviewer)
    f.make_published(jianghan, other_district.reviewer, name="江汉区资源甲")
    f.make_published(jianghan, other_district.reviewer, name="江汉区资源乙")
    only_jianghan = release(other_district.reviewer)
    f.make_published(jianghan, other_district.reviewer, name="江汉区资源丙")  # after its release

    # Entries not open: a government user sees them (the public's view: test_open_catalog.py).
    response = client(f.make_agency().staff).get("/catalog/releases/")
    assert response.status_code == 200
    rows = response.context["rows"]
    assert {d.code: d.name for d, _, _ in rows} == WUHAN_DISTRICTS
    assert len(rows) == 13
    by_code = {d.code: (r, n) for d, r, n in rows}
    r, n = by_code[f.JIANGAN]
    assert (r.pk, r.number, r.n, n) == (latest_jiangan.pk, 2, 2, 2)
    r, n = by_code[f.JIANGHAN]
    assert (r.pk, r.number, r.n, n) == (only_jianghan.pk, 1, 2, 3)
    for code in set(WUHAN_DISTRICTS) - {f.JIANGAN, f.JIANGHAN}:
        assert by_code[code] == (None, 0)
    assert response.context["total"] == 5
    page = response.content.decode()
    for name in WUHAN_DISTRICTS.values():
        assert name in page
    assert f'href="/catalog/releases/{latest_jiangan.pk}/"' in page
    assert f'href="/catalog/releases/{only_jianghan.pk}/"' in page
    assert response.context["own_division"] is None


def test_release_page_lists_its_entries(district, district_agency):
    versions = [
        f.make_published(district_agency, district.reviewer, name=name)
        for name in ("江岸区社区名录", "江岸区学校名录", "江岸区医疗机构名录")
    ]
    made = release(district.reviewer, note="第三季度")
    # Entries not open: a government user sees them (the public's view: test_open_catalog.py).
    response = client(f.make_agency().staff).get(f"/catalog/releases/{made.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    for version in versions:
        assert version.name in page
        assert version.resource.code in page
    assert "第三季度" in page
    assert pks(response.context["release"].versions.all()) == pks(versions)
    assert client().get("/catalog/releases/999999999/").status_code == 404


def test_an_empty_release_page_says_so(district):
    made = release(district.reviewer)
    response = client().get(f"/catalog/releases/{made.pk}/")
    assert response.status_code == 200
    assert list(response.context["release"].versions.all()) == []


# --- query counts -------------------------------------------------------------------------------


def _queries(c: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = c.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def test_release_pages_cost_a_fixed_number_of_queries(district, district_agency):
    f.make_published(district_agency, district.reviewer, name="第1号资源")
    first = release(district.reviewer)
    anonymous, reviewer = client(), client(district.reviewer)
    at_1 = (
        _queries(anonymous, "/catalog/releases/"),
        _queries(reviewer, "/catalog/releases/"),
        _queries(anonymous, f"/catalog/releases/{first.pk}/"),
    )

    # Four more releases in three more districts, with more entries each.
    for i, code in enumerate(["420102", "420104", "420106", "420111"]):
        bureau = district if code == f.JIANGAN else f.make_district_bureau(code)
        agencies = (
            [district_agency]
            if code == f.JIANGAN
            else [f.make_district_agency(code) for _ in range(2)]
        )
        for j in range(2):
            f.make_published(agencies[j % len(agencies)], bureau.reviewer, name=f"第{i}{j}号资源")
        reviewed(agencies[0], bureau.reviewer, name=f"第{i}号待发布资源")
        latest = release(bureau.reviewer)
    assert DistrictRelease.objects.count() == 5
    assert latest.versions.count() == 3
    big = DistrictRelease.objects.filter(division__code=f.JIANGAN).latest("number")
    assert big.versions.count() == 4
    at_5 = (
        _queries(anonymous, "/catalog/releases/"),
        _queries(reviewer, "/catalog/releases/"),
        _queries(anonymous, f"/catalog/releases/{big.pk}/"),
    )
    assert at_5 == at_1
    rows = client().get("/catalog/releases/").context["rows"]
    assert sum(1 for _, r, _ in rows if r is not None) == 4


# --- naughty strings ----------------------------------------------------------------------------


def test_naughty_release_notes_never_break_the_page(district):
    """Every string of the Big List of Naughty Strings (and a NUL, which PostgreSQL text
    refuses) as a release note: stored as sent (less surrounding white space) or refused by
    the form with a message, never a server error."""
    strings = [*naughty_strings(), "空字符\x00在中间", "\x00"]
    c = client(district.reviewer)
    c.raise_request_exception = False  # a 500 is asserted on, with the string that caused it
    refused = []
    for s in strings:
        before = DistrictRelease.objects.count()
        c.cookies.pop("messages", None)  # the redirects are not followed: drop the notices
        response = c.post("/catalog/releases/", {"note": s})
        assert response.status_code in (200, 302), repr(s)
        if response.status_code == 302:
            made = DistrictRelease.objects.latest("number")
            assert response["Location"] == f"/catalog/releases/{made.pk}/", repr(s)
            assert made.note == s.strip(), repr(s)
        else:
            assert DistrictRelease.objects.count() == before, repr(s)
            assert response.context["form"].errors.get("note"), repr(s)
            refused.append(s)
    assert all("\x00" in s or len(s.strip()) > 500 for s in refused), [repr(s) for s in refused]
    assert {"空字符\x00在中间", "\x00"} <= set(refused)
    anonymous = client()
    for made in DistrictRelease.objects.filter(note__icontains="<script"):
        page = anonymous.get(f"/catalog/releases/{made.pk}/").content.decode()
        assert made.note not in page, repr(made.note)
