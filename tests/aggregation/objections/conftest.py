"""Fixtures of the objection tests: a published resource of agency A with five rows in its
datastore table (key `code`: A0001..A0005, the name column masked), open and shared
unconditionally (L1) so that a company's requester may see its rows and name them; the
city bureau's reviewer, a requester, and the people who must not see the objections
(agency B, another requester)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation

from aggregation import services as agg
from aggregation.objections import services
from catalog.models import Resource
from tests.accounts.factories import OrganizationFactory, UserFactory
from tests.aggregation.factories import Setup, assess_channel, items_people
from tests.catalog import factories as cf
from tests.catalog.conftest import ensure_catalog_base_data
from wuhan_pdr.accounts.models import Organization, User
from wuhan_pdr.accounts.roles import Role

HEADER = "编号,姓名,年龄,出生日期,金额,更新时间\n"


def csv_rows(rows: list[tuple[str, str]]) -> str:
    return HEADER + "".join(
        f"{code},{name},30,1990-01-01,10.50,2025-01-02 08:00:00\n" for code, name in rows
    )


ROWS = [(f"A{i:04d}", f"姓名{i}") for i in range(1, 6)]


def load(setup, rows: list[tuple[str, str]]) -> None:
    batch = agg.batch_upload(
        channel=setup.channel,
        uploaded=SimpleUploadedFile("data.csv", csv_rows(rows).encode()),
        acting_user=setup.agency.staff,
    )
    agg.batch_run(batch_id=batch.pk)


@dataclass
class World:
    resource: Resource
    setup: object
    staff: User
    admin: User
    reviewer: User
    requester: User
    other_requester: User
    b_staff: User


def client(user=None) -> Client:
    c = Client()
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if user is not None:
        c.force_login(user)
    return c


def requester_user() -> User:
    org = OrganizationFactory(kind=Organization.Kind.USER_ORG)
    return UserFactory(organization=org, roles=[Role.REQUESTER])


OPEN_L1 = {
    "grade": "L1",
    "share_type": "unconditional",
    "open_type": "unconditional",
    "open_legal_basis": "",
    "open_conditions": "",
}
SHARED_ONLY = {"grade": "L2", "share_type": "conditional", "open_type": "none"}
NOT_SHARED = {
    "grade": "L2",
    "share_type": "none",
    "share_legal_basis": "《中华人民共和国个人信息保护法》第十三条。",
    "open_type": "none",
}


def catalog_fields(fields: dict) -> dict:
    """`fields` (OPEN_L1, SHARED_ONLY, NOT_SHARED) with the grade as the catalog wants it."""
    return {**fields, "grade": cf.grade(fields["grade"])}


def publish_bare(fields: dict | None = None):
    """A published resource without data (catalog fields `fields`, default OPEN_L1)."""
    return cf.make_published(
        cf.make_agency(), cf.make_city_bureau().reviewer, **catalog_fields(fields or OPEN_L1)
    ).resource


def people_items(*, masked_name: bool = True, masked_key: bool = False) -> list[dict]:
    items = items_people()
    if masked_name:
        items[1]["masking_rule"] = "保留首尾"
    if masked_key:
        items[0]["masking_rule"] = "保留首尾"
    return items


def make_resource(
    fields: dict | None = None, *, items: list[dict] | None = None, name: str = "异议测试通道"
) -> Setup:
    """A published resource of a new agency (catalog fields `fields`, default OPEN_L1) with
    an active file channel."""
    fields = catalog_fields(OPEN_L1 if fields is None else fields)
    agency = cf.make_agency()
    bureau = cf.make_city_bureau()
    version = cf.make_published(
        agency, bureau.reviewer, items=items or people_items(), update_mode="full", **fields
    )
    resource = version.resource
    resource.refresh_from_db()
    channel = agg.channel_create(
        resource=resource,
        kind="file",
        name=name,
        access_requirements="政务外网, 专线",
        acting_user=agency.staff,
    )
    assess_channel(channel)
    channel = agg.channel_activate(channel=channel, acting_user=agency.staff)
    return Setup(agency=agency, resource=resource, channel=channel)


@pytest.fixture(autouse=True)
def _base(db, settings, tmp_path):
    ensure_catalog_base_data()
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # Tests file many objections: the hourly limit has tests of its own.
    settings.OBJECTION_FILINGS_PER_HOUR = 100_000
    with translation.override("en"):
        yield


@pytest.fixture
def world(db) -> World:
    setup = make_resource()
    load(setup, ROWS)
    b = cf.make_agency()
    return World(
        resource=setup.resource,
        setup=setup,
        staff=setup.agency.staff,
        admin=setup.agency.admin,
        reviewer=cf.make_city_bureau().reviewer,
        requester=requester_user(),
        other_requester=requester_user(),
        b_staff=b.staff,
    )


def submit(world: World, **kwargs):
    fields = {
        "resource": world.resource,
        "kind": "error",
        "description": "姓名有误。",
        "acting_user": world.requester,
    }
    fields.update(kwargs)
    return services.objection_submit(**fields)


def to_agreed(world: World, objection, outcome: str = "correct"):
    from django.utils import timezone

    objection = services.objection_decide(
        objection=objection, accept=True, reason="受理。", acting_user=world.reviewer
    )
    return services.objection_record_consultation(
        objection=objection,
        held_at=timezone.now(),
        participants="三方",
        minutes="会商纪要。",
        outcome=outcome,
        outcome_detail="更正姓名。",
        acting_user=world.reviewer,
    )


def to_reported(world: World, objection):
    objection = to_agreed(world, objection)
    return services.objection_report(
        objection=objection, report="已更正。", acting_user=world.staff
    )
