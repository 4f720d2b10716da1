"""Fixtures of the operation tests: the city bureau, a provider agency with two published
resources eligible for authorized operation, an operator with its `operator` user, fee caps."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from authorization.operation import checks, services
from authorization.operation.models import FeeBasis, FeeCap
from tests.accounts.factories import OrganizationFactory, UserFactory, division
from tests.catalog import factories as cf
from tests.catalog.conftest import ensure_catalog_base_data
from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.workdays import today

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _base(db):
    ensure_catalog_base_data()
    cache.clear()


@pytest.fixture(autouse=True)
def _approval_checks_of_the_test_only():
    """These tests approve resources nobody registered: the registration chapter's check
    (registered at start-up) is set aside here, and test_registration_required puts it back."""
    saved = list(checks._APPROVAL_CHECKS)
    checks._APPROVAL_CHECKS.clear()
    yield saved
    checks._APPROVAL_CHECKS[:] = saved


@pytest.fixture
def bureau():
    return cf.make_city_bureau()


@pytest.fixture
def provider():
    return cf.make_agency()


def eligible(agency, reviewer, name="企业登记注册信息", **kw):
    version = cf.make_published(
        agency, reviewer, name=name, operation_eligible=True, grade=cf.grade("L2"), **kw
    )
    version.resource.refresh_from_db()
    return version.resource


@pytest.fixture
def resource(provider, bureau):
    return eligible(provider, bureau.reviewer)


@pytest.fixture
def operator_org():
    return OrganizationFactory(
        kind=Organization.Kind.OPERATOR, division=division("420100"), name="武汉数据集团(测试)"
    )


@pytest.fixture
def operator(operator_org):
    return UserFactory(organization=operator_org, roles=[Role.OPERATOR])


@pytest.fixture
def caps(bureau):
    for basis, amount in (
        (FeeBasis.CALL, "0.05"),
        (FeeBasis.ROW, "0.01"),
        (FeeBasis.MONTH, "5000"),
        (FeeBasis.PRODUCT, "200000"),
    ):
        FeeCap.objects.create(basis=basis, amount=Decimal(amount), rule="测试计价规则")


def plan():
    return SimpleUploadedFile("实施方案.pdf", PDF, content_type="application/pdf")


def committed(service, **kwargs):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return service(**kwargs)


def apply(operator, resources, **overrides):
    fields = {
        "kind": "individual",
        "resources": resources,
        "scope": "开发企业信用评估服务。",
        "purpose": "服务企业融资。",
        "security_measures": "平台内加工,全程审计。",
        "plan": plan(),
        "starts_on": today(),
        "ends_on": today() + dt.timedelta(days=365),
    }
    fields.update(overrides)
    return committed(services.authorization_apply, acting_user=operator, **fields)


def approve(authorization, reviewer):
    for provider in services.missing_consents(authorization):
        services.consent_record(
            authorization=authorization, provider=provider, note="已签署", acting_user=reviewer
        )
    return committed(
        services.authorization_decide,
        authorization=authorization,
        action="approve",
        acting_user=reviewer,
    )
