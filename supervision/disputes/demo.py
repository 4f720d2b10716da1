"""Demo disputes: one negotiating, one that went to coordination and was decided. Idempotent."""

from __future__ import annotations

import datetime as dt

from wuhan_pdr.kernel.demo import Seeder, register_seeder

TITLE = "【演示】婚姻登记数据共享拒绝争议"


def seed(ctx: dict) -> None:
    from django.contrib.auth import get_user_model

    from wuhan_pdr.accounts.models import Organization

    from . import services
    from .models import Dispute

    users = get_user_model().objects
    officer = users.filter(username="demo_agency_admin").first()
    reviewer = users.filter(username="demo_city_reviewer").first()
    if officer is None or reviewer is None or Dispute.objects.filter(title=TITLE).exists():
        return
    others = list(
        Organization.objects.filter(kind=Organization.Kind.CITY_AGENCY)
        .exclude(pk=officer.organization_id)
        .order_by("name")[:2]
    )
    if len(others) < 2:
        return
    d = services.dispute_open(
        other_party=others[0],
        subject="share_refusal",
        title=TITLE,
        reference="共享申请",
        description="对方以涉及个人信息为由拒绝共享婚姻登记数据，我方认为属于履职必需。",
        acting_user=officer,
    )
    services.meeting_record(
        dispute=d,
        held_on=dt.date.today(),
        participants="双方数据专员",
        minutes="双方就共享范围未能达成一致。",
        acting_user=officer,
    )
    services.dispute_escalate(dispute=d, acting_user=officer)
    services.meeting_record(
        dispute=d,
        held_on=dt.date.today(),
        participants="市数据局、双方数据专员",
        minutes="市数据局组织协调，明确按最小必要原则共享脱敏字段。",
        acting_user=reviewer,
    )
    services.dispute_decide(
        dispute=d,
        decision="按最小必要原则共享脱敏后的婚姻状态字段，10 个工作日内完成。",
        acting_user=reviewer,
    )
    services.dispute_open(
        other_party=others[1],
        subject="objection",
        title="【演示】地址数据异议处理争议",
        description="对异议处理结果存在分歧。",
        acting_user=officer,
    )


register_seeder(Seeder("supervision.disputes", 920, seed))
