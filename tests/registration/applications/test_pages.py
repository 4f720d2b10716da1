"""The registration pages: who sees what (applicants their organization's applications only,
drafts never to the body; the public register only public fields), forms submitted with
naughty strings never fail, the certificate carries the code and a QR code to the
verification page, and list pages cost a fixed number of queries."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from registration.applications import services
from registration.applications.models import NoticeObjection, Registration
from tests.catalog.factories import make_agency
from tests.conftest import client_for

from .conftest import end_notice, make_deposit, make_setup

pytestmark = pytest.mark.django_db


def test_the_public_register_shows_public_fields_only(setup):
    registered = setup.registered()
    other = make_setup()
    other.registrar = setup.registrar
    draft = services.registration_create(
        kind=Registration.Kind.PRODUCT,
        resource=None,
        deposit=make_deposit(holder=other.agency.org, kind="product", by=other.agency.staff),
        fields={
            "name": "尚未提交的草稿产品",
            "description": "x",
            "contact_name": "李明",
            "contact_phone": "027-88888888",
        },
        acting_user=other.agency.staff,
    )
    response = Client().get(reverse("registration:register"))
    assert response.status_code == 200
    body = response.content.decode()
    assert registered.code in body and registered.name in body
    assert setup.agency.org.name in body
    assert "027-88888888" not in body and "李明" not in body  # contact details stay inside
    assert draft.name not in body
    # A resource is named by its code, name and provider only, never the registrant's text.
    detail = Client().get(reverse("registration:public-detail", args=[registered.public_id]))
    assert registered.resource.code in detail.content.decode()
    assert "测试登记说明" not in detail.content.decode()


def test_the_public_register_searches_and_filters(setup):
    registered = setup.registered()
    in_notice = make_setup()
    in_notice.registrar = setup.registrar
    notice = in_notice.in_notice()
    c = Client()
    body = c.get(reverse("registration:register"), {"state": "notice"}).content.decode()
    assert notice.name in body and registered.code not in body
    body = c.get(reverse("registration:register"), {"q": registered.code}).content.decode()
    assert registered.code in body
    # A state the public may not see is ignored, never a leak of drafts.
    body = c.get(reverse("registration:register"), {"state": "draft"}).content.decode()
    assert "尚未" not in body


def test_the_public_register_costs_the_same_queries_for_more_rows(
    setup, django_assert_max_num_queries
):
    setup.registered()
    c = Client()
    with django_assert_max_num_queries(12) as few:
        c.get(reverse("registration:register"))
    for _ in range(3):
        more = make_setup()
        more.registrar = setup.registrar
        more.registered()
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert c.get(reverse("registration:register")).status_code == 200


def test_applicants_see_their_own_organizations_applications_only(setup):
    draft = setup.draft()
    outsider = make_agency()
    c = client_for(outsider.staff)
    assert c.get(reverse("registration:detail", args=[draft.pk])).status_code == 404
    assert draft.name not in c.get(reverse("registration:applications")).content.decode()
    own = client_for(setup.agency.staff)
    assert own.get(reverse("registration:detail", args=[draft.pk])).status_code == 200
    assert draft.name in own.get(reverse("registration:applications")).content.decode()


def test_the_body_never_sees_drafts_but_sees_what_is_submitted(setup):
    draft = setup.draft()
    c = client_for(setup.registrar)
    assert c.get(reverse("registration:detail", args=[draft.pk])).status_code == 404
    setup.move(draft, "submit")
    page = c.get(reverse("registration:detail", args=[draft.pk]))
    assert page.status_code == 200
    assert 'value="accept"' in page.content.decode()


def test_an_outsider_cannot_move_an_application(setup):
    registration = setup.move(setup.draft(), "submit")
    outsider = make_agency()
    response = client_for(outsider.staff).post(
        reverse("registration:move", args=[registration.pk]), {"transition": "accept"}
    )
    assert response.status_code == 404
    # The registrant itself may not accept: the move is not offered to it.
    response = client_for(setup.agency.staff).post(
        reverse("registration:move", args=[registration.pk]), {"transition": "accept"}
    )
    assert response.status_code == 404
    registration.refresh_from_db()
    assert registration.state == Registration.State.SUBMITTED


def test_anonymous_visitors_are_sent_to_sign_in_for_applications(setup):
    response = Client().get(reverse("registration:applications"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_apply_form_makes_a_draft(setup):
    c = client_for(setup.agency.staff)
    assert c.get(reverse("registration:apply")).status_code == 200
    response = c.post(
        reverse("registration:apply"),
        {
            "kind": "resource",
            "resource": setup.resource.pk,
            "deposit": setup.deposit.pk,
            "description": "说明",
            "contact_name": "李明",
            "contact_phone": "027-1234567",
        },
    )
    registration = Registration.objects.get(resource=setup.resource)
    assert response.status_code == 302
    assert response["Location"] == reverse("registration:detail", args=[registration.pk])
    assert registration.state == Registration.State.DRAFT
    assert registration.name == setup.resource.published_version.name


def test_naughty_strings_on_the_apply_form_never_fail(setup, naughty):
    c = client_for(setup.agency.staff)
    for text in naughty[::3]:
        response = c.post(
            reverse("registration:apply"),
            {
                "kind": "product",
                "deposit": setup.deposit.pk,
                "name": text,
                "description": text or "x",
                "source_note": text,
                "update_cycle": text,
                "contact_name": text,
                "contact_phone": text,
            },
        )
        assert response.status_code in (200, 302), repr(text)
    # A filter box too.
    for text in naughty[::7]:
        assert c.get(reverse("registration:applications"), {"q": text}).status_code == 200
        assert Client().get(reverse("registration:register"), {"q": text}).status_code == 200


def test_naughty_strings_on_the_objection_form_never_fail(setup, naughty, settings):
    settings.REGISTRATION_OBJECTIONS_PER_HOUR = 10_000
    registration = setup.in_notice()
    url = reverse("registration:objection-lodge", args=[registration.public_id])
    c = Client()
    for text in naughty[::2]:
        response = c.post(url, {"name": text, "contact": "13900000000", "text": text})
        assert response.status_code in (200, 302), repr(text)
        response = c.post(url, {"name": "张", "contact": text, "text": "异议"})
        assert response.status_code in (200, 302), repr(text)
    # Whatever was lodged is shown escaped on the body's page.
    page = client_for(setup.registrar).get(reverse("registration:detail", args=[registration.pk]))
    assert page.status_code == 200
    assert "<script>alert(" not in page.content.decode()


def test_an_anonymous_objection_is_lodged_and_validated(setup):
    registration = setup.in_notice()
    url = reverse("registration:objection-lodge", args=[registration.public_id])
    c = Client()
    response = c.post(url, {"name": "张三", "contact": "无", "text": "异议内容"})
    assert response.status_code == 200
    assert 'id="id_contact_error"' in response.content.decode()
    assert not registration.objections.exists()
    response = c.post(url, {"name": "张三", "contact": "zhang@example.com", "text": "异议内容"})
    assert response.status_code == 302
    objection = registration.objections.get()
    assert objection.state == NoticeObjection.State.OPEN and objection.lodged_by is None
    # Its author's contact is never shown to the public.
    assert (
        "zhang@example.com"
        not in c.get(
            reverse("registration:public-detail", args=[registration.public_id])
        ).content.decode()
    )


def test_objections_beyond_the_hourly_limit_are_refused(setup, settings):
    settings.REGISTRATION_OBJECTIONS_PER_HOUR = 1
    registration = setup.in_notice()
    url = reverse("registration:objection-lodge", args=[registration.public_id])
    c = Client()
    assert c.post(url, {"name": "a", "contact": "13900000000", "text": "x"}).status_code == 302
    assert c.post(url, {"name": "a", "contact": "13900000000", "text": "y"}).status_code == 429
    assert registration.objections.count() == 1


def test_the_certificate_shows_the_code_and_a_qr_code_to_the_verification_page(setup):
    registration = setup.registered()
    response = Client().get(reverse("registration:certificate", args=[registration.code]))
    assert response.status_code == 200
    body = response.content.decode()
    assert registration.code in body
    assert re.search(r"<svg[^>]*class=\"qr-code\"", body)
    assert f"/registration/evidence/verify/?code={registration.code}" in body
    assert setup.deposit.data_sha256 in body and setup.deposit.metadata_sha256 in body
    assert "style=" not in body.split("<svg", 1)[1].split("</svg>", 1)[0]


def test_no_certificate_before_the_code(setup):
    registration = setup.in_notice()
    end_notice(registration)
    assert (
        Client().get(reverse("registration:certificate", args=["WHDJ-2026-999999"])).status_code
        == 404
    )
    # Neither is a registration still in the procedure before its notice public.
    other = make_setup()
    draft = other.draft()
    assert (
        Client().get(reverse("registration:public-detail", args=[draft.public_id])).status_code
        == 404
    )


def test_the_registrar_answers_an_objection_on_the_page(setup):
    registration = setup.in_notice()
    Client().post(
        reverse("registration:objection-lodge", args=[registration.public_id]),
        {"name": "a", "contact": "13900000000", "text": "x"},
    )
    objection = registration.objections.get()
    c = client_for(setup.registrar)
    response = c.post(
        reverse("registration:objection-answer", args=[registration.pk, objection.pk]),
        {"answer": "已核实。"},
    )
    assert response.status_code == 302
    objection.refresh_from_db()
    assert objection.state == NoticeObjection.State.ANSWERED and not objection.upheld
    # The applicant may not answer.
    assert (
        client_for(setup.agency.staff)
        .post(
            reverse("registration:objection-answer", args=[registration.pk, objection.pk]),
            {"answer": "x"},
        )
        .status_code
        == 404
    )


def test_the_list_pages_cost_a_fixed_number_of_queries(setup, django_assert_max_num_queries):
    setup.move(setup.draft(), "submit")
    c = client_for(setup.registrar)
    with django_assert_max_num_queries(25) as few:
        c.get(reverse("registration:applications"))
    for _ in range(3):
        more = make_setup()
        more.registrar = setup.registrar
        more.move(more.draft(), "submit")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert c.get(reverse("registration:applications")).status_code == 200


def test_the_work_queues_show_what_to_accept_by_when_and_what_was_sent_back(setup):
    import datetime as dt

    from django.utils import timezone

    from registration.applications.queues import _sent_back, _to_accept

    registration = setup.move(setup.draft(), "submit")
    Registration.objects.filter(pk=registration.pk).update(
        accept_by=timezone.now() - dt.timedelta(hours=1)
    )
    items = _to_accept(setup.registrar)
    assert [i.url for i in items] == [reverse("registration:detail", args=[registration.pk])]
    assert items[0].overdue
    assert _to_accept(setup.agency.staff) == []
    setup.move(registration, "send_back", comment="缺少授权文件。")
    assert _to_accept(setup.registrar) == []
    assert len(_sent_back(setup.agency.staff)) == 1
    assert _sent_back(make_agency().staff) == []
    home = client_for(setup.registrar).get("/")
    assert home.status_code == 200


def test_a_material_that_is_not_what_its_name_says_is_refused(setup):
    from django.core.files.uploadedfile import SimpleUploadedFile

    registration = setup.draft()
    c = client_for(setup.agency.staff)
    response = c.post(
        reverse("registration:material-add", args=[registration.pk]),
        {"title": "伪装的文件", "file": SimpleUploadedFile("a.pdf", b"MZ\x90\x00 not a pdf")},
    )
    assert response.status_code == 200
    assert 'id="id_file_error"' in response.content.decode()
    assert registration.materials.count() == 1  # the one the fixture attached


def test_a_change_is_requested_and_decided_on_the_pages(setup):
    registration = setup.registered()
    new = make_deposit(
        holder=setup.agency.org, resource=setup.resource, by=setup.agency.staff, content=b"v2"
    )
    c = client_for(setup.agency.staff)
    assert c.get(reverse("registration:change", args=[registration.pk])).status_code == 200
    response = c.post(
        reverse("registration:change", args=[registration.pk]),
        {"description": "新增字段。", "reason": "数据项调整。", "deposit": new.pk},
    )
    assert response.status_code == 302
    change = registration.changes.get()
    # Another organization's staff cannot even see the page.
    assert (
        client_for(make_agency().staff)
        .get(reverse("registration:change", args=[registration.pk]))
        .status_code
        == 404
    )
    response = client_for(setup.registrar).post(
        reverse("registration:change-decide", args=[registration.pk, change.pk]),
        {"decision": "approve", "comment": ""},
    )
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.version == 2 and registration.deposit == new


def test_naughty_strings_on_the_detail_pages_forms_never_fail(setup, naughty):
    from django.core.files.uploadedfile import SimpleUploadedFile

    draft = setup.draft()
    staff = client_for(setup.agency.staff)
    for text in naughty[::5]:
        response = staff.post(
            reverse("registration:material-add", args=[draft.pk]),
            {"title": text, "file": SimpleUploadedFile("x.txt", b"plain")},
        )
        assert response.status_code == 200, repr(text)
    other = make_setup()
    other.registrar = setup.registrar
    registration = other.in_notice()
    objection = services.objection_lodge(
        registration=registration, name="a", contact="13900000000", text="x", client_key="n"
    )
    body = client_for(setup.registrar)
    for text in naughty[::9]:
        response = body.post(
            reverse("registration:objection-answer", args=[registration.pk, objection.pk]),
            {"answer": text},
        )
        assert response.status_code == 302, repr(text)
        response = body.post(
            reverse("registration:move", args=[registration.pk]),
            {"transition": "assign_code", "comment": text},
        )
        assert response.status_code in (200, 302, 404), repr(text)


def test_a_verified_file_names_the_public_registrations_resting_on_it(setup):
    """The verification page, on a match, names the registration code(s) of the deposit and
    links to their public register entries, only for registrations the public may see."""
    registered = setup.registered()

    def another(content: bytes):
        other = make_setup()
        other.registrar = setup.registrar
        # Files of their own (the same bytes would be the same deposit digest).
        other.deposit = make_deposit(
            holder=other.agency.org, resource=other.resource, by=other.agency.staff, content=content
        )
        return other

    noticed = another(b"a,b\r\n3,4\r\n")
    in_notice = noticed.in_notice()
    hidden = another(b"a,b\r\n5,6\r\n")
    draft = hidden.draft()
    verify = reverse("evidence:verify")
    client = Client()

    html = client.get(verify, {"digest": setup.deposit.data_sha256}).content.decode()
    assert "verify-match" in html and registered.code in html
    assert reverse("registration:public-detail", args=[registered.public_id]) in html
    # The same through the deposit's id or the registration's code.
    for params in ({"deposit": str(setup.deposit.public_id)}, {"code": registered.code}):
        html = client.get(verify, params).content.decode()
        assert reverse("registration:public-detail", args=[registered.public_id]) in html
    # In public notice: no code yet, but its public entry.
    html = client.get(verify, {"digest": noticed.deposit.data_sha256}).content.decode()
    assert reverse("registration:public-detail", args=[in_notice.public_id]) in html
    # A draft is nobody's business: the deposit matches, no registration is named.
    html = client.get(verify, {"digest": hidden.deposit.data_sha256}).content.decode()
    assert "verify-match" in html
    assert str(draft.public_id) not in html and "/registration/r/" not in html
    # A cancelled registration is named with its state.
    cancelled = setup.move(registered, "cancel")
    html = client.get(verify, {"digest": setup.deposit.data_sha256}).content.decode()
    assert registered.code in html and cancelled.get_state_display() in html
