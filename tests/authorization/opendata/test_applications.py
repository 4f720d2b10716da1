"""Conditional opening (issue #14, item 5): a registered user applies for a resource opened
under conditions; the provider's data officer and then the data bureau decide; approval
issues a grant (origin "open_application") whose key the applicant sees once."""

from __future__ import annotations

import pytest
from django.test import Client

from authorization.opendata.models import OpenApplication
from authorization.sharing.models import Grant
from authorization.sharing.services import grant_authenticate
from tests.accounts.factories import OrganizationFactory, UserFactory
from tests.catalog.factories import make_city_bureau
from tests.naughty import naughty_strings
from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role

from .factories import city_licence, make_open

FORM = {"purpose": "城市养老服务规划研究。", "security_measures": "专人专机保管,用后删除。"}


@pytest.fixture
def setup(db):
    city_licence()
    return make_open(n=3, open_type="conditional")


@pytest.fixture
def applicant(db):
    org = OrganizationFactory(kind=Organization.Kind.USER_ORG)
    return UserFactory(organization=org, roles=[Role.REQUESTER])


def client(user=None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def apply(user, setup, **data) -> OpenApplication | None:
    client(user).post(
        f"/open/{setup.resource.pk}/apply/", {**FORM, "licence_accepted": "on", **data}
    )
    return OpenApplication.objects.filter(applicant=user).order_by("-pk").first()


def decide(user, application, action, comment=""):
    return client(user).post(
        f"/open/applications/{application.pk}/", {"action": action, "comment": comment}
    )


def test_application_goes_provider_then_bureau_and_issues_a_grant(setup, applicant):
    # The apply button is on the catalog page of a conditionally open resource.
    page = client(applicant).get(f"/catalog/resources/{setup.resource.pk}/").content.decode()
    assert f"/open/{setup.resource.pk}/apply/" in page
    application = apply(applicant, setup)
    assert application.state == OpenApplication.State.SUBMITTED
    assert application.licence.name == "武汉市公共数据开放许可协议"
    bureau = make_city_bureau().reviewer
    # The bureau neither sees nor decides before the provider.
    assert client(bureau).get(f"/open/applications/{application.pk}/").status_code == 404
    decide(setup.agency.admin, application, "provider_approve")
    application.refresh_from_db()
    assert application.state == OpenApplication.State.PROVIDER_APPROVED
    decide(bureau, application, "bureau_approve")
    application.refresh_from_db()
    assert application.state == OpenApplication.State.APPROVED
    grant = application.grant
    assert grant.origin == "open_application" and grant.grantee_id == applicant.organization_id
    deliveries = {gi.item.name: gi.delivery for gi in grant.items.select_related("item")}
    assert deliveries["电话"] == "masked" and deliveries["姓名"] == "clear"

    # The key is shown to the applicant once, and works.
    assert client(setup.agency.admin).post(
        f"/open/applications/{application.pk}/key/"
    ).status_code in (302, 200)
    application.refresh_from_db()
    assert application.key_sealed  # the officer could not take it
    shown = client(applicant).post(f"/open/applications/{application.pk}/key/")
    raw = shown.context["raw_key"]
    assert raw.startswith("pdr_") and raw in shown.content.decode()
    assert grant_authenticate(raw, client_ip="127.0.0.1").pk == grant.pk
    again = client(applicant).post(f"/open/applications/{application.pk}/key/")
    assert again.status_code == 302 and raw not in again.content.decode()
    assert Grant.objects.filter(pk=grant.pk).exists()


def test_refusal_needs_reasons(setup, applicant):
    application = apply(applicant, setup)
    response = decide(setup.agency.admin, application, "provider_refuse", "")
    assert response.status_code == 200
    application.refresh_from_db()
    assert application.state == OpenApplication.State.SUBMITTED
    decide(setup.agency.admin, application, "provider_refuse", "用途与开放条件不符。")
    application.refresh_from_db()
    assert application.state == OpenApplication.State.REFUSED and application.grant is None


def test_applicant_and_outsiders_cannot_decide(setup, applicant):
    application = apply(applicant, setup)
    decide(applicant, application, "provider_approve")
    other = UserFactory(organization=OrganizationFactory(kind=Organization.Kind.USER_ORG))
    assert client(other).get(f"/open/applications/{application.pk}/").status_code == 404
    decide(other, application, "provider_approve")
    application.refresh_from_db()
    assert application.state == OpenApplication.State.SUBMITTED


def test_only_conditionally_open_resources_may_be_applied_for(db, applicant):
    city_licence()
    for open_type in ("unconditional", "none"):
        setup = make_open(n=0, open_type=open_type, name=f"资源{open_type}")
        assert client(applicant).get(f"/open/{setup.resource.pk}/apply/").status_code == 404
    setup = make_open(n=0, open_type="conditional")
    assert client().get(f"/open/{setup.resource.pk}/apply/").status_code == 302  # log in
    # The provider's own people do not apply for their data.
    assert client(setup.agency.staff).get(f"/open/{setup.resource.pk}/apply/").status_code == 404


def test_licence_must_be_accepted_and_one_pending_at_a_time(setup, applicant):
    assert apply(applicant, setup, licence_accepted="") is None
    first = apply(applicant, setup)
    response = client(applicant).post(
        f"/open/{setup.resource.pk}/apply/", {**FORM, "licence_accepted": "on"}
    )
    assert response.status_code == 200
    assert OpenApplication.objects.filter(applicant=applicant).count() == 1
    assert first is not None


def test_naughty_strings_in_applications_never_500(setup, applicant):
    c = client(applicant)
    for s in [*naughty_strings()[:200], "\x00", "a" * 5000]:
        response = c.post(
            f"/open/{setup.resource.pk}/apply/",
            {"purpose": s, "security_measures": s, "licence_accepted": "on"},
        )
        assert response.status_code in (200, 302), s
        OpenApplication.objects.filter(applicant=applicant).delete()
    for s in naughty_strings()[:100]:
        assert c.get("/open/applications/", {"q": s, "state": s}).status_code == 200


def test_queues_show_who_must_decide(setup, applicant):
    from wuhan_pdr.kernel.workqueue import queues_for

    application = apply(applicant, setup)
    admin = setup.agency.admin
    mine = dict((q.key, items) for q, items in queues_for(admin, {Role.AGENCY_ADMIN}))
    assert [i.url for i in mine["open_applications_provider"]] == [
        f"/open/applications/{application.pk}/"
    ]
    bureau = make_city_bureau().reviewer
    theirs = dict((q.key, items) for q, items in queues_for(bureau, {Role.CITY_REVIEWER}))
    assert theirs["open_applications_bureau"] == []
    decide(admin, application, "provider_approve")
    theirs = dict((q.key, items) for q, items in queues_for(bureau, {Role.CITY_REVIEWER}))
    assert len(theirs["open_applications_bureau"]) == 1


def test_application_list_query_count_is_constant(setup, applicant):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = client(setup.agency.admin)
    apply(applicant, setup)
    c.get("/open/applications/")
    with CaptureQueriesContext(connection) as few:
        assert c.get("/open/applications/").status_code == 200
    for _ in range(4):
        other = UserFactory(
            organization=OrganizationFactory(kind=Organization.Kind.USER_ORG),
            roles=[Role.REQUESTER],
        )
        apply(other, setup)
    with CaptureQueriesContext(connection) as many:
        page = c.get("/open/applications/")
    assert page.content.decode().count("/open/applications/") >= 5
    assert len(many) == len(few)
