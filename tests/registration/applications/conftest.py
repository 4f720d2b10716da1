"""Fixtures of the registration procedure's tests: an agency with a published catalog
resource, a finished evidence deposit of it (a row, as the evidence service would leave it),
and the registration body with one registrar."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import Resource
from registration.applications import services
from registration.applications.models import Registration
from registration.evidence.models import Deposit  # noqa: F401
from registration.evidence.services import deposit_of_bytes
from tests.accounts.factories import OrganizationFactory, UserFactory
from tests.catalog.conftest import ensure_catalog_base_data
from tests.catalog.factories import Agency, make_agency, make_city_bureau, make_published
from wuhan_pdr.accounts.models import Organization, User
from wuhan_pdr.accounts.roles import Role

PDF = b"%PDF-1.4\n% test material\n%%EOF\n"


def pdf(name: str = "申请表.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, "application/pdf")


def make_deposit(*, holder, resource=None, kind="resource_data", by, content=b"a,b\r\n1,2\r\n"):
    """A finished deposit of `content`, made by the evidence service (file, digests, leaf)."""
    return deposit_of_bytes(
        kind=kind,
        holder=holder,
        resource=resource,
        data=content,
        acting_user=by,
        title="数据产品" if kind == "product" else "",
    )


def make_registrar() -> User:
    body = Organization.objects.filter(
        kind=Organization.Kind.REGISTRATION_BODY
    ).first() or OrganizationFactory(
        name="武汉市公共数据资源登记中心(测试)", kind=Organization.Kind.REGISTRATION_BODY
    )
    return UserFactory(organization=body, roles=[Role.REGISTRAR])


@dataclass
class Setup:
    agency: Agency
    resource: Resource
    deposit: Deposit
    registrar: User

    def draft(self, **fields) -> Registration:
        registration = services.registration_create(
            kind=Registration.Kind.RESOURCE,
            resource=self.resource,
            deposit=self.deposit,
            fields={
                "description": "测试登记说明。",
                "contact_name": "李明",
                "contact_phone": "027-88888888",
                **fields,
            },
            acting_user=self.agency.staff,
        )
        services.material_add(
            registration=registration,
            title="登记申请表",
            uploaded=pdf(),
            acting_user=self.agency.staff,
        )
        return registration

    def move(self, registration, *transitions, comment="理由。"):
        for t in transitions:
            who = self.agency.staff if t in ("submit", "withdraw") else self.registrar
            registration = services.registration_move(
                registration=registration,
                transition=t,
                comment=comment if t in ("send_back", "refuse", "cancel") else "",
                acting_user=who,
            )
        return registration

    def in_notice(self) -> Registration:
        return self.move(self.draft(), "submit", "accept", "review_pass")

    def registered(self) -> Registration:
        registration = self.in_notice()
        end_notice(registration)
        return self.move(registration, "assign_code")


def end_notice(registration: Registration) -> None:
    """The notice period has passed (its dates moved back, as time passing would)."""
    import datetime as dt

    from django.utils import timezone

    Registration.objects.filter(pk=registration.pk).update(
        notice_starts_at=timezone.now() - dt.timedelta(days=20),
        notice_ends_at=timezone.now() - dt.timedelta(seconds=1),
    )
    registration.refresh_from_db()


def make_setup(**resource_fields) -> Setup:
    ensure_catalog_base_data()
    agency = make_agency()
    bureau = make_city_bureau()
    version = make_published(agency, bureau.reviewer, **resource_fields)
    resource = version.resource
    return Setup(
        agency=agency,
        resource=resource,
        deposit=make_deposit(holder=agency.org, resource=resource, by=agency.staff),
        registrar=make_registrar(),
    )


@pytest.fixture
def setup(db) -> Setup:
    return make_setup()


@pytest.fixture(autouse=True)
def _english():
    # The services' refusals are matched by their English text.
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _objection_counters():
    # The hourly objection counters live in the cache (Redis): each test starts afresh.
    cache.clear()
    yield
