"""Art. 18 with Art. 23: an authorization is approved only when every resource in it is
registered; the registration chapter says so through the approval-check hook."""

from __future__ import annotations

import pytest

from authorization.operation import checks
from authorization.operation.models import OperationAuthorization
from registration.applications.demo import _one
from registration.applications.models import Registration
from registration.applications.services import operation_registration_problems
from tests.accounts.factories import UserFactory
from tests.registration.applications.conftest import make_registrar
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.errors import DomainError

from .conftest import apply, approve


def test_approval_waits_for_the_registration_of_every_resource(
    resource, provider, bureau, operator, _approval_checks_of_the_test_only
):
    assert operation_registration_problems in _approval_checks_of_the_test_only
    checks.register_approval_check(operation_registration_problems)
    a = apply(operator, [resource])
    with pytest.raises(DomainError) as refused:
        approve(a, bureau.reviewer)
    assert resource.code in str(refused.value)
    a.refresh_from_db()
    assert a.state == OperationAuthorization.State.SUBMITTED and not a.grants.exists()

    staff = UserFactory(organization=provider.org, roles=[Role.AGENCY_STAFF])
    _one(
        staff,
        make_registrar(),
        Registration.Kind.RESOURCE,
        resource.published_version.name,
        Registration.State.REGISTERED,
    )
    registration = Registration.objects.get(resource=resource)
    assert registration.state == Registration.State.REGISTERED and registration.code
    assert approve(a, bureau.reviewer).state == OperationAuthorization.State.ACTIVE
