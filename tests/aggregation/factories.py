"""Builders for aggregation tests: a published resource with the items a test needs, and a
channel set up, assessed and activated through the real services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from aggregation import services
from aggregation.models import Channel, ChannelKind
from catalog.models import Resource
from tests.accounts.factories import UserFactory
from tests.catalog.factories import Agency, make_agency, make_city_bureau, make_published
from tests.catalog.factories import grade as catalog_grade
from wuhan_pdr.accounts.roles import Role


@dataclass
class Setup:
    agency: Agency
    resource: Resource
    channel: Channel


def security_admin():
    bureau = make_city_bureau()
    return UserFactory(organization=bureau.org, roles=[Role.SECURITY_ADMIN])


def assess_channel(channel: Channel, *, result: str = "pass", valid_days: int = 365, user=None):
    """A security assessment of `channel` recorded by a security administrator (a pass valid
    for `valid_days` by default), through the real service."""
    from aggregation.assessments import CHANNEL_CHECKLIST
    from security.assessments.services import assessment_record

    today = timezone.localdate()
    return assessment_record(
        subject_kind="channel",
        subject_id=channel.pk,
        assessed_on=today,
        result=result,
        findings="已检查",
        answers=[(q.key, "yes", "") for q in CHANNEL_CHECKLIST],
        valid_until=today + dt.timedelta(days=valid_days),
        acting_user=user or security_admin(),
    )


def items_people() -> list[dict]:
    """A key, a name, an age, a date, an amount and an update flag."""
    return [
        {"name": "编号", "english_name": "code", "data_type": "C", "length": 20, "is_key": True},
        {"name": "姓名", "english_name": "full_name", "data_type": "C", "length": 10},
        {"name": "年龄", "english_name": "age", "data_type": "I"},
        {"name": "出生日期", "english_name": "born", "data_type": "D"},
        {"name": "金额", "english_name": "amount", "data_type": "Y", "length": 18},
        {
            "name": "更新时间",
            "english_name": "updated_at",
            "data_type": "T",
            "is_update_flag": True,
        },
    ]


def make_channel(
    *,
    agency: Agency | None = None,
    items: list[dict] | None = None,
    kind: str = ChannelKind.FILE,
    update_mode: str = "full",
    activate: bool = True,
    grade: str | None = None,
    **channel_fields,
) -> Setup:
    """A published resource of `agency` (a new one by default) with an active channel."""
    agency = agency or make_agency()
    bureau = make_city_bureau()
    extra = {"grade": catalog_grade(grade)} if grade else {}
    version = make_published(
        agency, bureau.reviewer, items=items or items_people(), update_mode=update_mode, **extra
    )
    resource = version.resource
    resource.refresh_from_db()
    channel = services.channel_create(
        resource=resource,
        kind=kind,
        name=channel_fields.pop("name", "测试通道"),
        access_requirements="政务外网, 专线",
        acting_user=agency.staff,
        **channel_fields,
    )
    if activate:
        assess_channel(channel)
        if kind == ChannelKind.PUSH:
            services.channel_token_rotate(channel=channel, acting_user=agency.staff)
        channel = services.channel_activate(channel=channel, acting_user=agency.staff)
    return Setup(agency=agency, resource=resource, channel=channel)
