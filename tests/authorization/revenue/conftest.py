"""Fixtures of the revenue tests: the city bureau, an operator, three provider agencies
each with a published resource, and operation grants of those resources to the operator."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from authorization.sharing.models import Grant
from authorization.sharing.services import grant_issue
from tests.accounts.factories import OrganizationFactory, UserFactory
from tests.catalog import factories as cf
from tests.catalog.conftest import ensure_catalog_base_data
from wuhan_pdr.accounts.models import Organization, User
from wuhan_pdr.accounts.roles import Role


@pytest.fixture(autouse=True)
def _catalog_base_data(db):
    ensure_catalog_base_data()


@dataclass
class World:
    bureau: cf.Bureau
    operator: Organization
    operator_user: User
    agencies: list
    grants: list
    auditor: User


def issue_operation_grant(resource, operator, reviewer) -> Grant:
    items = {i.pk: "clear" for i in resource.published_version.items.all()}
    grant, _key = grant_issue(
        resource=resource,
        grantee=operator,
        items=items,
        origin="operation",
        valid_from=timezone.now() - dt.timedelta(days=200),
        valid_until=timezone.now() + dt.timedelta(days=200),
        acting_user=reviewer,
    )
    return grant


@pytest.fixture
def world() -> World:
    bureau = cf.make_city_bureau()
    operator = OrganizationFactory(kind=Organization.Kind.OPERATOR)
    operator_user = UserFactory(organization=operator, roles=[Role.OPERATOR])
    agencies, grants = [], []
    for _i in range(3):
        agency = cf.make_agency()
        version = cf.make_published(agency, bureau.reviewer)
        version.resource.refresh_from_db()
        agencies.append(agency)
        grants.append(issue_operation_grant(version.resource, operator, bureau.reviewer))
    auditor = UserFactory(organization=bureau.org, roles=[Role.AUDITOR])
    return World(bureau, operator, operator_user, agencies, grants, auditor)
