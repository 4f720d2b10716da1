"""Sandbox pages: request, review, the builder and the released table; 404 for anyone
without an approved, current session of their own."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from authorization.sandbox.models import SandboxSession
from tests.aggregation.test_views import client
from tests.authorization.sandbox.factories import make_resource, make_world, submit
from tests.catalog.factories import make_agency

pytestmark = pytest.mark.django_db


def builder_post(world, **extra):
    data = {
        "resource": world.setup.resource.pk,
        "measure": "count",
        "group1": "age",
        "epsilon": "1.0",
    }
    data.update(extra)
    return client(world.requester).post(
        reverse("sandbox:workspace", kwargs={"pk": world.session.pk}), data
    )


def test_a_requester_asks_and_the_provider_officer_approves_through_the_pages():
    setup = make_resource()
    requester = make_agency().staff
    today = timezone.localdate()
    c = client(requester)
    assert c.get(reverse("sandbox:request")).status_code == 200
    response = c.post(
        reverse("sandbox:request"),
        {
            "resources": [setup.resource.pk],
            "purpose": "人口结构分析",
            "valid_from": today.isoformat(),
            "valid_until": (today + dt.timedelta(days=10)).isoformat(),
        },
    )
    session = SandboxSession.objects.get(requester=requester)
    assert response.status_code == 302 and session.state == "submitted"
    assert session.step_deadline is not None
    officer = client(setup.agency.admin)
    assert f"#{session.pk}" in officer.get(reverse("sandbox:review")).text
    response = officer.post(
        reverse("sandbox:approve", kwargs={"pk": session.pk}),
        {
            "epsilon_total": "3",
            f"lo_{setup.resource.pk}_amount": "0",
            f"hi_{setup.resource.pk}_amount": "9000",
        },
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.state == "approved" and session.epsilon_total == 3
    assert session.bounds == {f"{setup.resource.pk}:amount": [0.0, 9000.0]}


def test_a_refusal_needs_reasons():
    setup = make_resource()
    session = submit(setup, make_agency().staff)
    officer = client(setup.agency.admin)
    url = reverse("sandbox:refuse", kwargs={"pk": session.pk})
    assert officer.post(url, {"comment": ""}).status_code == 200
    officer.post(url, {"comment": "用途与数据无关"})
    session.refresh_from_db()
    assert session.state == "refused" and session.decision_reason == "用途与数据无关"


def test_the_builder_shows_a_suppressed_small_group_and_exports_aggregates_only():
    world = make_world()
    c = client(world.requester)
    assert c.get(reverse("sandbox:workspace", kwargs={"pk": world.session.pk})).status_code == 200
    response = builder_post(world)
    assert response.status_code == 302, response.text[:2000]
    page = c.get(response["Location"])
    assert page.status_code == 200
    assert "1 group with fewer than 10 rows was suppressed" in page.text
    assert "<td>50</td>" not in page.text
    query = world.session.queries.get()
    csv_text = b"".join(
        c.get(reverse("sandbox:export", args=[world.session.pk, query.pk, "csv"])).streaming_content
    ).decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("年龄")
    assert len(csv_text.strip().splitlines()) == 3  # header, 30, 40
    assert "姓名" not in csv_text.splitlines()[1]
    xlsx = c.get(reverse("sandbox:export", args=[world.session.pk, query.pk, "xlsx"]))
    assert xlsx.status_code == 200


def test_others_get_404():
    world = make_world()
    outsider = make_agency().staff  # another agency
    colleague = make_agency().admin
    for user in (outsider, colleague, world.setup.agency.staff):
        c = client(user)
        assert (
            c.get(reverse("sandbox:workspace", kwargs={"pk": world.session.pk})).status_code == 404
        )
        assert c.get(reverse("sandbox:detail", kwargs={"pk": world.session.pk})).status_code == 404
    # The provider's officer sees the session but never queries in it.
    officer = client(world.officer)
    assert (
        officer.get(reverse("sandbox:detail", kwargs={"pk": world.session.pk})).status_code == 200
    )
    assert (
        officer.get(reverse("sandbox:workspace", kwargs={"pk": world.session.pk})).status_code
        == 404
    )


def test_a_session_not_approved_or_out_of_its_window_answers_404():
    setup = make_resource()
    requester = make_agency().staff
    session = submit(setup, requester)
    url = reverse("sandbox:workspace", kwargs={"pk": session.pk})
    assert client(requester).get(url).status_code == 404
    world = make_world()
    SandboxSession.objects.filter(pk=world.session.pk).update(
        valid_until=timezone.localdate() - dt.timedelta(days=1)
    )
    url = reverse("sandbox:workspace", kwargs={"pk": world.session.pk})
    assert client(world.requester).get(url).status_code == 404


def test_naughty_strings_in_the_builder_never_500(naughty):
    world = make_world(epsilon_total=100)
    for i, s in enumerate(naughty[:150]):
        response = builder_post(
            world,
            epsilon="0.1",
            f1_column=["age", "born", s][i % 3],
            f1_op=["eq", "in", "range"][i % 3],
            f1_value=s,
            f1_lo=s,
            group1=s if i % 7 == 0 else "age",
        )
        assert response.status_code in (200, 302), repr(s)


def test_list_searches_survive_naughty_strings(naughty):
    world = make_world()
    for s in naughty[:100]:
        assert client(world.requester).get(reverse("sandbox:mine"), {"q": s}).status_code == 200
        assert client(world.officer).get(reverse("sandbox:review"), {"q": s}).status_code == 200


def test_withdrawal_asks_for_confirmation_and_reasons_then_closes_the_builder():
    world = make_world()
    c = client(world.requester)
    url = reverse("sandbox:withdraw", kwargs={"pk": world.session.pk})
    assert c.get(url).status_code == 200  # the confirmation page
    assert c.post(url, {"comment": ""}).status_code == 200
    world.session.refresh_from_db()
    assert world.session.state == "approved"
    assert c.post(url, {"comment": "分析已完成"}).status_code == 302
    world.session.refresh_from_db()
    assert world.session.state == "withdrawn"
    workspace = reverse("sandbox:workspace", kwargs={"pk": world.session.pk})
    assert c.get(workspace).status_code == 404


def test_the_officer_is_told_and_finds_the_session_in_the_work_queue():
    from wuhan_pdr.kernel.models import Notification

    setup = make_resource()
    session = submit(setup, make_agency().staff)
    assert Notification.objects.filter(recipient=setup.agency.admin).exists()
    home = client(setup.agency.admin).get("/")
    assert reverse("sandbox:detail", kwargs={"pk": session.pk}) in home.text


def test_a_company_requester_may_not_ask_for_a_session():
    from tests.accounts.factories import OrganizationFactory, UserFactory
    from wuhan_pdr.accounts.models import Organization
    from wuhan_pdr.accounts.roles import Role

    org = OrganizationFactory(kind=Organization.Kind.USER_ORG)
    company = UserFactory(organization=org, roles=[Role.REQUESTER])
    assert client(company).get(reverse("sandbox:request")).status_code == 404
    assert client(company).get(reverse("sandbox:index")).status_code == 404


def test_list_pages_keep_a_constant_query_count():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    world = make_world()

    def count(user, name) -> int:
        c = client(user)
        c.get(reverse(name))  # warm caches (roles, menu)
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(reverse(name)).status_code == 200
        return len(ctx.captured_queries)

    before = (count(world.requester, "sandbox:mine"), count(world.officer, "sandbox:review"))
    for _ in range(3):
        submit(world.setup, world.requester)
    after = (count(world.requester, "sandbox:mine"), count(world.officer, "sandbox:review"))
    assert before == after
