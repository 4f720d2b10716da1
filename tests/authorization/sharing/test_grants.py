"""The grant interface: issuing, authenticating a raw key, counting usage."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from authorization.sharing.models import Grant, GrantUsage
from authorization.sharing.services import (
    GrantRefused,
    grant_authenticate,
    grant_issue,
    key_digest,
    usage_record,
)
from tests.catalog import factories as cf

pytestmark = pytest.mark.django_db


def _issue(resource, grantee, *, user, **kwargs):
    items = {i.pk: "clear" for i in resource.published_version.items.all()}
    defaults = dict(
        resource=resource,
        grantee=grantee,
        items=items,
        origin="share_request",
        valid_until=timezone.now() + dt.timedelta(days=30),
        acting_user=user,
    )
    defaults.update(kwargs)
    return grant_issue(**defaults)


def _refusal(raw, ip="10.0.0.1"):
    with pytest.raises(GrantRefused) as caught:
        grant_authenticate(raw, client_ip=ip)
    return caught.value.code, caught.value.status


def test_issued_key_is_stored_only_as_its_digest(resource, requester, provider):
    grant, raw = _issue(resource, requester.org, user=provider.admin)
    assert raw.startswith(f"pdr_{grant.key_prefix}_")
    assert len(grant.key_prefix) == 12
    assert grant.key_hash == key_digest(raw)
    assert raw not in str(list(Grant.history.filter(id=grant.pk).values()))
    assert sorted(grant.items.values_list("column", flat=True)) == [
        "full_name",
        "id_number",
        "updated_at",
    ]
    assert grant_authenticate(raw, client_ip="10.0.0.1") == grant


def test_wrong_or_malformed_keys_are_invalid(resource, requester, provider):
    grant, raw = _issue(resource, requester.org, user=provider.admin)
    assert _refusal(raw[:-1] + ("A" if raw[-1] != "A" else "B")) == ("key_invalid", 401)
    assert _refusal("") == ("key_invalid", 401)
    assert _refusal("pdr_nothex_xx") == ("key_invalid", 401)
    assert _refusal(f"pdr_{'0' * 12}_{'a' * 43}") == ("key_invalid", 401)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("revoked", ("grant_revoked", 403)),
        ("suspended", ("grant_suspended", 403)),
        ("expired", ("grant_expired", 401)),
    ],
)
def test_grant_states_refuse_the_key(resource, requester, provider, state, expected):
    grant, raw = _issue(resource, requester.org, user=provider.admin)
    Grant.objects.filter(pk=grant.pk).update(state=state)
    assert _refusal(raw) == expected


def test_a_grant_past_its_validity_is_expired(resource, requester, provider):
    grant, raw = _issue(resource, requester.org, user=provider.admin)
    Grant.objects.filter(pk=grant.pk).update(
        valid_from=timezone.now() - dt.timedelta(days=3),
        valid_until=timezone.now() - dt.timedelta(days=1),
    )
    assert _refusal(raw) == ("grant_expired", 401)


def test_ip_allow_list(resource, requester, provider):
    grant, raw = _issue(
        resource, requester.org, user=provider.admin, allowed_ips=["10.1.0.0/16", "192.0.2.7"]
    )
    assert grant.allowed_ips == ["10.1.0.0/16", "192.0.2.7/32"]
    assert grant_authenticate(raw, client_ip="10.1.2.3") == grant
    assert grant_authenticate(raw, client_ip="192.0.2.7") == grant
    assert _refusal(raw, ip="10.2.0.1") == ("ip_not_allowed", 403)
    assert _refusal(raw, ip="not an address") == ("ip_not_allowed", 403)


def test_higher_grade_items_need_a_passed_assessment(requester, provider, bureau):
    items = cf.valid_items()
    for item in items[1:]:
        item["grade"] = cf.grade("L2")
    version = cf.make_published(provider, bureau.reviewer, items=items, grade=cf.grade("L3"))
    grant, raw = _issue(version.resource, requester.org, user=provider.admin)
    assert grant.needs_assessment
    assert _refusal(raw) == ("assessment_required", 403)


def test_lower_graded_items_of_a_higher_grade_resource_still_need_an_assessment(
    requester, provider, bureau
):
    """The resource's grade decides (issue #14 item 7), not only the granted items' own."""
    items = cf.valid_items()
    for item in items[1:]:
        item["grade"] = cf.grade("L2")
    version = cf.make_published(provider, bureau.reviewer, items=items, grade=cf.grade("L3"))
    lower = {i.pk: "clear" for i in version.items.all() if i.grade_id}
    assert len(lower) == 2
    grant, raw = grant_issue(
        resource=version.resource,
        grantee=requester.org,
        items=lower,
        origin="share_request",
        valid_until=timezone.now() + dt.timedelta(days=30),
        acting_user=provider.admin,
    )
    assert grant.needs_assessment
    assert _refusal(raw) == ("assessment_required", 403)


def test_general_items_need_no_assessment(resource, requester, provider):
    grant, _raw = _issue(resource, requester.org, user=provider.admin)
    assert not grant.needs_assessment


def test_issue_refuses_items_of_another_resource(resource, requester, provider, bureau):
    other = cf.make_published(provider, bureau.reviewer, name="另一个资源")
    stranger = other.items.first()
    from wuhan_pdr.kernel.errors import DomainError

    with pytest.raises(DomainError) as caught:
        _issue(resource, requester.org, user=provider.admin, items={stranger.pk: "clear"})
    assert caught.value.field == "items"
    with pytest.raises(DomainError):
        item = resource.published_version.items.first()
        _issue(resource, requester.org, user=provider.admin, items={item.pk: "plain"})
    with pytest.raises(DomainError) as caught:
        _issue(resource, requester.org, user=provider.admin, allowed_ips=["no/where"])
    assert caught.value.field == "allowed_ips"
    with pytest.raises(DomainError) as caught:
        _issue(
            resource,
            requester.org,
            user=provider.admin,
            valid_until=timezone.now() - dt.timedelta(days=1),
        )
    assert caught.value.field == "valid_until"
    assert not Grant.objects.exists()


def test_usage_record_is_one_upsert(resource, requester, provider):
    grant, _raw = _issue(resource, requester.org, user=provider.admin)
    with CaptureQueriesContext(connection) as queries:
        usage_record(grant, rows=100)
    assert len(queries) == 1
    usage_record(grant, rows=50, calls=2)
    usage = GrantUsage.objects.get(grant=grant)
    assert (usage.day, usage.calls, usage.rows) == (timezone.localdate(), 3, 150)
