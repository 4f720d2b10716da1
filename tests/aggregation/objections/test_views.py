"""The objection pages: filing from a resource's catalog page, the three lists with filters
and constant query counts, the detail page with each step form, the evidence download, the
time limits page, and the rights: agency B and other requesters get 404. Naughty strings in
the description never give a 500."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from aggregation.models import Objection, TimeLimit
from aggregation.objections import services
from tests.accounts.factories import UserFactory
from tests.catalog import factories as cf
from tests.naughty import naughty_strings
from wuhan_pdr.accounts.roles import Role

from .conftest import (
    OPEN_L1,
    catalog_fields,
    client,
    publish_bare,
    requester_user,
    submit,
    to_agreed,
    to_reported,
)

S = Objection.State
PDF = b"%PDF-1.4\n%%EOF\n"


def detail_url(o) -> str:
    return reverse("objections:detail", kwargs={"pk": o.pk})


# --- filing ----------------------------------------------------------------------------------


def test_catalog_page_links_to_raising_an_objection(world):
    url = reverse("catalog:resource", kwargs={"pk": world.resource.pk})
    page = client(world.requester).get(url).content.decode()
    assert f"/objections/new/?resource={world.resource.pk}" in page
    anonymous = client().get(url).content.decode()
    assert "/objections/new/" not in anonymous


def test_requester_raises_an_objection_with_rows_and_evidence(world):
    url = reverse("objections:create") + f"?resource={world.resource.pk}"
    c = client(world.requester)
    assert c.get(url).status_code == 200
    response = c.post(
        url,
        {
            "resource": world.resource.pk,
            "kind": "error",
            "description": "A0002 的姓名写错了。",
            "rows": "A0002",
            "evidence": SimpleUploadedFile("证据.pdf", PDF),
        },
    )
    objection = Objection.objects.get()
    assert response.status_code == 302 and response.url == detail_url(objection)
    assert objection.row_keys == [["A0002"]] and objection.evidence
    page = c.get(detail_url(objection)).content.decode()
    assert "A0002 的姓名写错了。" in page and "姓*2" in page and "姓名2" not in page
    assert reverse("objections:evidence", kwargs={"pk": objection.pk}) in page


def test_filing_errors_are_shown_on_their_fields(world):
    url = reverse("objections:create") + f"?resource={world.resource.pk}"
    c = client(world.requester)
    response = c.post(url, {"kind": "error", "description": "错", "rows": "A0001\nB0404"})
    assert response.status_code == 200
    assert "B0404" in response.context["form"].errors["rows"][0]
    response = c.post(
        url,
        {
            "kind": "error",
            "description": "错",
            "evidence": SimpleUploadedFile("证据.pdf", b"MZ\x90\x00" + b"\x00" * 100),
        },
    )
    assert response.status_code == 200
    assert "evidence" in response.context["form"].errors
    assert not Objection.objects.exists()


def test_filing_form_names_the_key_and_warns_that_a_good_file_must_be_chosen_again(world):
    url = reverse("objections:create") + f"?resource={world.resource.pk}"
    c = client(world.requester)
    form = c.get(url).context["form"]
    assert "编号" in str(form.fields["rows"].help_text)
    # another field wrong: the good file is not kept, and the page says so
    response = c.post(
        url,
        {
            "kind": "error",
            "description": "",
            "rows": "A0001",
            "evidence": SimpleUploadedFile("证据.pdf", PDF),
        },
    )
    assert response.status_code == 200 and response.context["evidence_lost"]
    assert b"choose it again" in response.content
    # the file itself wrong: its own message, no warning
    response = c.post(
        url,
        {
            "kind": "error",
            "description": "错",
            "evidence": SimpleUploadedFile("证据.exe", b"MZ\x90\x00"),
        },
    )
    assert "evidence" in response.context["form"].errors
    assert not response.context["evidence_lost"]
    # a resource without data on the platform: its rows cannot be named
    bare = publish_bare()
    form = c.get(reverse("objections:create") + f"?resource={bare.pk}").context["form"]
    assert "cannot be named" in str(form.fields["rows"].help_text)


def test_filing_needs_sign_in_and_a_published_resource(world):
    url = reverse("objections:create") + f"?resource={world.resource.pk}"
    response = client().get(url)
    assert response.status_code == 302 and "/accounts/login/" in response.url
    draft = cf.make_draft(cf.make_agency())
    c = client(world.requester)
    assert c.get(reverse("objections:create") + f"?resource={draft.resource.pk}").status_code == 404
    assert c.get(reverse("objections:create") + "?resource=abc").status_code == 404
    assert c.get(reverse("objections:create")).status_code == 404


def test_naughty_descriptions_never_give_a_500(world):
    strings = naughty_strings()
    url = reverse("objections:create") + f"?resource={world.resource.pk}"
    c = client(world.requester)
    for s in strings:
        response = c.post(url, {"kind": "error", "description": s})
        assert response.status_code in (200, 302), repr(s)
        # As row keys: never found, never a server error.
        response = c.post(url, {"kind": "error", "description": "行", "rows": s})
        assert response.status_code == (200 if s.strip() else 302), repr(s)
    created = Objection.objects.filter(requester=world.requester)
    assert created.exists()
    for objection in created[:20]:
        assert c.get(detail_url(objection)).status_code == 200
    response = c.get(reverse("objections:mine"), {"q": strings[-1]})
    assert response.status_code == 200


# --- rights ----------------------------------------------------------------------------------


def test_detail_for_requester_provider_and_bureau(world):
    objection = submit(world)
    for user in (world.requester, world.staff, world.admin, world.reviewer):
        assert client(user).get(detail_url(objection)).status_code == 200
    provider_page = client(world.staff).get(detail_url(objection)).content.decode()
    assert world.requester.display_name in provider_page
    assert world.requester.organization.name in provider_page
    assert world.requester.email not in provider_page
    bureau_page = client(world.reviewer).get(detail_url(objection)).content.decode()
    assert world.requester.email in bureau_page


def test_detail_is_404_for_agency_b_and_other_requesters(world):
    objection = submit(world)
    auditor = UserFactory(roles=[Role.AUDITOR])
    for user in (world.b_staff, world.other_requester, auditor):
        assert client(user).get(detail_url(objection)).status_code == 404
    assert client(world.requester).get("/objections/999999/").status_code == 404


def test_evidence_downloads_only_for_those_who_see_the_objection(world):
    objection = submit(world, evidence=SimpleUploadedFile("证据.pdf", PDF))
    url = reverse("objections:evidence", kwargs={"pk": objection.pk})
    for user in (world.requester, world.staff, world.reviewer):
        response = client(user).get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF
        assert f"objection-{objection.pk}-evidence.pdf" in response["Content-Disposition"]
    for user in (world.b_staff, world.other_requester):
        assert client(user).get(url).status_code == 404
    without = submit(world)
    url = reverse("objections:evidence", kwargs={"pk": without.pk})
    assert client(world.requester).get(url).status_code == 404


@pytest.mark.parametrize("step", ["decide", "consult", "report", "review"])
def test_step_posts_are_404_for_agency_b_and_other_requesters(world, step):
    objection = submit(world)
    url = reverse(f"objections:{step}", kwargs={"pk": objection.pk})
    for user in (world.b_staff, world.other_requester):
        assert client(user).post(url, {"decision": "accept", "reason": "x"}).status_code == 404
    objection.refresh_from_db()
    assert objection.state == S.SUBMITTED


# --- steps through the pages -----------------------------------------------------------------


def test_each_step_through_its_form(world):
    objection = submit(world, rows="A0001")
    reviewer, staff = client(world.reviewer), client(world.staff)
    assert "decide_form" in reviewer.get(detail_url(objection)).context
    assert "decide_form" not in staff.get(detail_url(objection)).context
    response = reviewer.post(
        reverse("objections:decide", kwargs={"pk": objection.pk}),
        {"decision": "accept", "reason": "受理。"},
    )
    assert response.status_code == 302
    response = reviewer.post(
        reverse("objections:consult", kwargs={"pk": objection.pk}),
        {
            "held_at": "2020-01-01T10:00",
            "participants": "三方",
            "minutes": "纪要",
            "outcome": "correct",
            "outcome_detail": "更正",
        },
    )
    # Before the objection was filed: refused on its field.
    assert response.status_code == 200
    assert "held_at" in response.context["consult_form"].errors
    held = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    response = reviewer.post(
        reverse("objections:consult", kwargs={"pk": objection.pk}),
        {
            "held_at": held,
            "participants": "三方",
            "minutes": "纪要",
            "outcome": "correct",
            "outcome_detail": "更正",
        },
    )
    assert response.status_code == 302
    assert "report_form" in staff.get(detail_url(objection)).context
    response = staff.post(reverse("objections:report", kwargs={"pk": objection.pk}), {"report": ""})
    assert response.status_code == 200 and "report" in response.context["report_form"].errors
    response = staff.post(
        reverse("objections:report", kwargs={"pk": objection.pk}), {"report": "已更正。"}
    )
    assert response.status_code == 302
    page = reviewer.get(detail_url(objection)).content.decode()
    assert "review_form" in reviewer.get(detail_url(objection)).context and "已更正。" in page
    response = reviewer.post(
        reverse("objections:review", kwargs={"pk": objection.pk}),
        {"action": "return", "comment": ""},
    )
    assert response.status_code == 200
    assert "comment" in response.context["review_form"].errors
    response = reviewer.post(
        reverse("objections:review", kwargs={"pk": objection.pk}), {"action": "close"}
    )
    assert response.status_code == 302
    objection.refresh_from_db()
    assert objection.state == S.CLOSED
    page = client(world.requester).get(detail_url(objection)).content.decode()
    for label in ("Submit", "Accept", "Record the consultation", "Report what was done", "Close"):
        assert label in page


def test_a_refused_step_is_shown_not_raised(world):
    objection = submit(world)
    response = client(world.staff).post(
        reverse("objections:decide", kwargs={"pk": objection.pk}),
        {"decision": "accept", "reason": "自己受理。"},
    )
    assert response.status_code == 200
    assert response.context["decide_form"].non_field_errors()
    objection.refresh_from_db()
    assert objection.state == S.SUBMITTED


# --- lists -----------------------------------------------------------------------------------


def many(world, n: int) -> None:
    for i in range(n):
        submit(world, description=f"第{i}条", kind="error" if i % 2 else "omission")


def test_lists_show_each_their_own(world):
    mine = submit(world)
    other = services.objection_submit(
        resource=world.resource,
        kind="error",
        description="别人的",
        acting_user=world.other_requester,
    )
    b_resource = publish_bare()
    elsewhere = services.objection_submit(
        resource=b_resource, kind="error", description="他处的", acting_user=world.requester
    )

    def pks(user, name):
        response = client(user).get(reverse(f"objections:{name}"))
        assert response.status_code == 200
        return {o.pk for o in response.context["page_obj"].object_list}

    assert pks(world.requester, "mine") == {mine.pk, elsewhere.pk}
    assert pks(world.staff, "provider") == {mine.pk, other.pk}
    assert pks(world.reviewer, "bureau") == {mine.pk, other.pk, elsewhere.pk}
    assert pks(world.b_staff, "provider") == set()


def test_bureau_and_provider_lists_are_404_to_others(world):
    assert client(world.requester).get(reverse("objections:bureau")).status_code == 404
    assert client(world.requester).get(reverse("objections:provider")).status_code == 404
    assert client(world.staff).get(reverse("objections:bureau")).status_code == 404
    assert client().get(reverse("objections:mine")).status_code == 302


def test_index_sends_each_role_to_its_list(world):
    assert client(world.reviewer).get("/objections/").url == reverse("objections:bureau")
    assert client(world.staff).get("/objections/").url == reverse("objections:provider")
    assert client(world.requester).get("/objections/").url == reverse("objections:mine")


def test_bureau_list_filters_and_search(world):
    import datetime as dt

    a = submit(world, description="甲乙丙")
    b = submit(world, kind="omission", description="丁戊")
    to_agreed(world, b)
    Objection.objects.filter(pk=a.pk).update(step_deadline=timezone.now() - dt.timedelta(days=1))
    other = cf.make_agency()
    c_obj = services.objection_submit(
        resource=cf.make_published(other, world.reviewer, **catalog_fields(OPEN_L1)).resource,
        kind="ip",
        description="著作权",
        acting_user=world.requester,
    )
    c = client(world.reviewer)

    def pks(**params):
        response = c.get(reverse("objections:bureau"), params)
        assert response.status_code == 200
        return {o.pk for o in response.context["page_obj"].object_list}

    assert pks(state="agreed") == {b.pk}
    assert pks(kind="ip") == {c_obj.pk}
    assert pks(agency=other.org.pk) == {c_obj.pk}
    assert pks(overdue="on") == {a.pk}
    assert pks(q="乙丙") == {a.pk}
    assert pks(q=f"#{b.pk}") == {b.pk}
    assert pks(state="nonsense") == {a.pk, b.pk, c_obj.pk}  # a bad filter is ignored
    response = c.get(reverse("objections:bureau"), {"q": "没有这样的"})
    assert "No objection matches." in response.content.decode()


def test_empty_lists_say_what_to_do(world):
    page = client(world.requester).get(reverse("objections:mine")).content.decode()
    assert "You have not raised an objection." in page
    assert reverse("catalog:list") in page


@pytest.mark.parametrize(
    "who,name", [("reviewer", "bureau"), ("staff", "provider"), ("requester", "mine")]
)
def test_list_query_count_does_not_grow(world, who, name, django_assert_max_num_queries):
    many(world, 3)
    c = client(getattr(world, who))
    url = reverse(f"objections:{name}")
    c.get(url)
    with django_assert_max_num_queries(14) as few:
        c.get(url)
    many(world, 25)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = c.get(url)
    assert len(response.context["page_obj"].object_list) == 20


# --- time limits -----------------------------------------------------------------------------


def test_bureau_sets_time_limits_on_its_page(world):
    c = client(world.reviewer)
    url = reverse("objections:limits")
    response = c.get(url)
    assert response.status_code == 200
    assert response.context["form"]["objection_decide"].value() == 5
    assert response.context["form"]["issue_rectify"].value() == 10
    data = {
        "issue_rectify": 7,
        "objection_decide": 3,
        "objection_consult": 10,
        "objection_carry_out": 15,
        "objection_close": 5,
    }
    assert c.post(url, data).status_code == 302
    assert TimeLimit.objects.get(key="objection_decide").working_days == 3
    assert TimeLimit.objects.get(key="objection_carry_out").working_days == 15
    # the quality issue's limit is set on the same page (the next issues' deadlines follow)
    assert TimeLimit.objects.get(key="issue_rectify").working_days == 7
    response = c.post(url, {**data, "objection_decide": 0})
    assert response.status_code == 200 and "objection_decide" in response.context["form"].errors
    from wuhan_pdr.kernel.workdays import deadline_after

    assert submit(world).step_deadline == deadline_after(3)


def test_system_admin_may_set_limits_and_others_get_404(world):
    admin = UserFactory(organization=world.reviewer.organization, roles=[Role.SYSTEM_ADMIN])
    assert client(admin).get(reverse("objections:limits")).status_code == 200
    for user in (world.staff, world.requester, world.admin):
        assert client(user).get(reverse("objections:limits")).status_code == 404


# --- work queues -----------------------------------------------------------------------------


def test_work_queues_of_bureau_and_provider(world):
    decide = submit(world)
    carry = to_agreed(world, submit(world))
    close = to_reported(world, submit(world))
    home = client(world.reviewer).get("/").content.decode()
    assert detail_url(decide) in home and detail_url(close) in home
    assert detail_url(carry) not in home
    home = client(world.staff).get("/").content.decode()
    assert detail_url(carry) in home and detail_url(decide) not in home
    assert detail_url(carry) not in client(world.b_staff).get("/").content.decode()


def test_requester_of_another_kind_can_file(world):
    requester = requester_user()
    objection = submit(world, acting_user=requester)
    assert client(requester).get(detail_url(objection)).status_code == 200
