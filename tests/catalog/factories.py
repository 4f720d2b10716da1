"""Builders for catalog tests: agencies with their people, the bureaus that review them, and
catalog entries filed and moved through the real services (never rows written behind the
services' back, so every test exercises the code the portal runs)."""

from __future__ import annotations

from dataclasses import dataclass

from django.test import TestCase

from catalog import services
from catalog.models import Classification, ResourceVersion
from security.models import Grade
from tests.accounts.factories import OrganizationFactory, UserFactory, division
from wuhan_pdr.accounts.models import Organization, User
from wuhan_pdr.accounts.roles import Role

JIANGAN = "420102"  # 江岸区
JIANGHAN = "420103"  # 江汉区


@dataclass
class Agency:
    org: Organization
    staff: User
    admin: User


@dataclass
class Bureau:
    org: Organization
    reviewer: User


def make_agency(
    *,
    kind: str = Organization.Kind.CITY_AGENCY,
    division_code: str = "420100",
    name: str | None = None,
) -> Agency:
    """An agency with one `agency_staff` and one `agency_admin` (its data officer)."""
    extra = {"name": name} if name else {}
    org = OrganizationFactory(kind=kind, division=division(division_code), **extra)
    return Agency(
        org=org,
        staff=UserFactory(organization=org, roles=[Role.AGENCY_STAFF]),
        admin=UserFactory(organization=org, roles=[Role.AGENCY_ADMIN]),
    )


def make_city_bureau() -> Bureau:
    """The city data bureau with a `city_reviewer`."""
    org = OrganizationFactory(kind=Organization.Kind.CITY_BUREAU, division=division("420100"))
    return Bureau(org=org, reviewer=UserFactory(organization=org, roles=[Role.CITY_REVIEWER]))


def make_district_bureau(division_code: str = JIANGAN) -> Bureau:
    """A district data bureau with a `district_reviewer`."""
    org = OrganizationFactory(
        kind=Organization.Kind.DISTRICT_BUREAU, division=division(division_code)
    )
    return Bureau(org=org, reviewer=UserFactory(organization=org, roles=[Role.DISTRICT_REVIEWER]))


def make_district_agency(division_code: str = JIANGAN) -> Agency:
    return make_agency(kind=Organization.Kind.DISTRICT_AGENCY, division_code=division_code)


def grade(code: str) -> Grade:
    """One of the default grades L1..L4 (loaded by a data migration)."""
    return Grade.objects.get(code=code)


def classification(code: str = "101") -> Classification:
    """A node of the classification trees (loaded by a data migration), e.g. 101 人口."""
    return Classification.objects.get(code=code)


def valid_fields(**overrides) -> dict:
    """Resource fields that satisfy every rule: L2, shared under conditions, not open."""
    fields = {
        "name": "户籍人口基本信息",
        "summary": "本市户籍人口的姓名、性别、出生日期等基本信息。",
        "source_system": "人口基础信息库",
        "format": "database",
        "grade": grade("L2"),
        "share_type": "conditional",
        "share_conditions": "用于政务服务办理,需说明用途。",
        "share_method": "platform",
        "open_type": "none",
        "open_legal_basis": "《中华人民共和国个人信息保护法》第二十八条。",
        "update_cycle": "monthly",
        "update_mode": "full",
    }
    fields.update(overrides)
    return fields


def valid_items() -> list[dict]:
    """Three items: a key, a plain text column and a timestamp marked as the update flag (the
    entry is updated monthly, and data updated periodically carries one: Art. 16)."""
    return [
        {
            "name": "公民身份号码",
            "english_name": "id_number",
            "data_type": "C",
            "length": 18,
            "is_key": True,
        },
        {"name": "姓名", "english_name": "full_name", "data_type": "C", "length": 50},
        {
            "name": "更新时间",
            "english_name": "updated_at",
            "data_type": "T",
            "is_update_flag": True,
        },
    ]


def make_draft(
    agency: Agency,
    *,
    by: User | None = None,
    classification_code: str = "101",
    items: list[dict] | None = None,
    **field_overrides,
) -> ResourceVersion:
    """A complete draft filed through `services.resource_draft_create` by the agency's staff.

    Given items none of which is an update flag, and no update cycle, the entry is updated
    irregularly: only periodically updated data must carry an update flag (Art. 16), so that
    a test about something else may file any columns. Name a periodic cycle to test the rule."""
    unflagged = bool(items) and not any(item.get("is_update_flag") for item in items)
    if unflagged and "update_cycle" not in field_overrides:
        field_overrides["update_cycle"] = "irregular"
    return services.resource_draft_create(
        acting_user=by or agency.staff,
        provider=agency.org,
        classification=classification(classification_code),
        fields=valid_fields(**field_overrides),
        items=valid_items() if items is None else items,
    )


def approve(version: ResourceVersion, agency: Agency) -> ResourceVersion:
    """Submit (staff) and approve (data officer): the entry waits for the bureau."""
    version = services.resource_transition(
        version=version, action="submit", acting_user=agency.staff
    )
    return services.resource_transition(
        version=version, action="agency_approve", acting_user=agency.admin
    )


def committed(service, **kwargs):
    """Call a service and run what it defers to the commit (the test's transaction never
    commits), as a request would: e.g. the facet cache is invalidated after a publication."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return service(**kwargs)


def publish(version: ResourceVersion, agency: Agency, reviewer: User) -> ResourceVersion:
    """Take a draft through the whole workflow to publication."""
    version = approve(version, agency)
    version = services.resource_transition(version=version, action="review", acting_user=reviewer)
    return committed(
        services.resource_transition, version=version, action="publish", acting_user=reviewer
    )


def make_published(agency: Agency, reviewer: User, **kwargs) -> ResourceVersion:
    return publish(make_draft(agency, **kwargs), agency, reviewer)
