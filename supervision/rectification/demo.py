"""Demo data of rectification orders: one order in each state, one overdue and escalated, and
the suggestions the platform's signals give. Idempotent."""

from __future__ import annotations

import datetime as dt

from wuhan_pdr.kernel.demo import Seeder, register_seeder

MARK = "【演示】"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def seed(ctx: dict) -> None:
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile

    from wuhan_pdr.accounts.models import Organization

    from . import services
    from .models import RectificationOrder

    users = get_user_model().objects
    reviewer = users.filter(username="demo_city_reviewer").first()
    officer = users.filter(username="demo_agency_admin").first()
    if reviewer is None or officer is None:
        return
    if RectificationOrder.objects.filter(facts__startswith=MARK).exists():
        return
    agency = officer.organization
    others = list(
        Organization.objects.filter(kind=Organization.Kind.CITY_AGENCY)
        .exclude(pk=agency.pk)
        .order_by("name")[:2]
    )

    def issue(org, case, facts, days=15):
        return services.order_issue(
            agency=org,
            case=case,
            facts=MARK + facts,
            deadline_days=days,
            requirement="限期完成整改并上传佐证材料。",
            acting_user=reviewer,
        )

    issue(agency, "objection", "异议 3 件未在规定时限内核查反馈。")
    o = issue(agency, "not_provided", "婚姻登记数据连续两个更新周期未更新。")
    services.order_transition(order=o, action="acknowledge", acting_user=officer)
    o = issue(agency, "not_shared", "共享申请 2 件超过答复时限未答复。")
    services.order_transition(order=o, action="acknowledge", acting_user=officer)

    def evidence(name):
        return [SimpleUploadedFile(name, PDF, content_type="application/pdf")]

    services.order_answer(
        order=o,
        answer="已补办答复并建立共享申请提醒机制。",
        files=evidence("整改报告.pdf"),
        acting_user=officer,
    )
    o = issue(agency, "security_duty", "前置机安全评估已过期，未及时复评。")
    services.order_transition(order=o, action="acknowledge", acting_user=officer)
    services.order_answer(
        order=o, answer="已申请复评。", files=evidence("复评申请.pdf"), acting_user=officer
    )
    services.order_transition(
        order=o, action="return", comment="复评尚未完成，请完成后再提交。", acting_user=reviewer
    )
    o = issue(agency, "other", "数据目录挂接信息不完整。")
    services.order_transition(order=o, action="acknowledge", acting_user=officer)
    services.order_answer(
        order=o, answer="已补全挂接信息。", files=evidence("挂接清单.pdf"), acting_user=officer
    )
    services.order_transition(order=o, action="verify", acting_user=reviewer)
    if others:
        late = issue(others[0], "not_provided", "人口基础数据未按目录提供。", days=5)
        RectificationOrder.objects.filter(pk=late.pk).update(
            due_on=dt.date.today() - dt.timedelta(days=14)
        )
        services.orders_sweep()
    services.suggestions_scan()


register_seeder(Seeder("supervision.rectification", 910, seed))
