"""factory_boy factories for organizations and users.

Users get their roles through the same helper the services use, so a factory-made
`agency_admin` is also in its organization's admin group and holds the object permissions
django-guardian gives that group.
"""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from wuhan_pdr.accounts.demo import demo_credit_code
from wuhan_pdr.accounts.models import Division, LegacyCreditCode, Organization, User
from wuhan_pdr.accounts.services import _set_roles

# Long enough, not common, not numeric, unlike any user name: passes every validator.
DEFAULT_PASSWORD = "Hankou-Bridge-2025"

# seed_demo numbers its organizations from 10_000_001; factories stay well clear of it.
_SERIAL_BASE = 30_000_000


def division(code: str = "420100") -> Division:
    """One of the GB/T 2260 divisions the data migration loads (Wuhan and its districts)."""
    return Division.objects.get(code=code)


def credit_code(serial: int, division_code: str = "420100") -> str:
    return demo_credit_code("1", "1", division_code, _SERIAL_BASE + serial)


class OrganizationFactory(DjangoModelFactory):
    class Meta:
        model = Organization
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"武汉市测试局{n:05d}")
    short_name = factory.Sequence(lambda n: f"测试局{n:05d}")
    kind = Organization.Kind.CITY_AGENCY
    division = factory.LazyFunction(division)
    credit_code = factory.LazyAttributeSequence(lambda o, n: credit_code(n, o.division.code))
    address = "湖北省武汉市江岸区沿江大道188号"


class LegacyCreditCodeFactory(DjangoModelFactory):
    class Meta:
        model = LegacyCreditCode

    code = "91420100MA4K0000X1"
    note = "issued before GB 32100"


class UserFactory(DjangoModelFactory):
    """A user of an organization. `roles=[Role.AGENCY_ADMIN, ...]` puts it in the role groups
    and, for a data officer, in its organization's admin group."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n:05d}")
    full_name = factory.Sequence(lambda n: f"测试用户{n:05d}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.gov.cn")
    organization = factory.SubFactory(OrganizationFactory)
    password = factory.django.Password(DEFAULT_PASSWORD)
    is_active = True

    @factory.post_generation
    def roles(obj, create, extracted, **kwargs):
        if create and extracted:
            _set_roles(obj, sorted(str(r) for r in extracted))
