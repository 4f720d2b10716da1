"""Demo data of supervision inspections (Art. 28): a closed inspection of the demo agency whose
finding became a rectification order (and another needing none), one in progress with a
finding still to follow up, and one planned for the demo operator. Idempotent."""

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
    from .models import Inspection
    from .permissions import subjects_for
    from .selectors import resources_of

    users = get_user_model().objects
    reviewer = users.filter(username="demo_city_reviewer").first()
    officer = users.filter(username="demo_agency_admin").first()
    operator = users.filter(username="demo_operator").first()
    if reviewer is None or officer is None:
        return
    if Inspection.objects.filter(title__startswith=MARK).exists():
        return
    today = dt.date.today()
    agency = officer.organization
    own = list(resources_of(agency)[:2])

    def evidence(name):
        return [SimpleUploadedFile(name, PDF, content_type="application/pdf")]

    def move(i, *actions, comment=""):
        for a in actions:
            services.inspection_transition(
                inspection=i,
                action=a,
                comment=comment if a == "record" else "",
                acting_user=reviewer,
            )

    closed = services.inspection_plan(
        subject=agency,
        kind="regular",
        title=MARK + "年度公共数据管理定期监督检查",
        scope=["catalog", "aggregation", "sharing"],
        resources=own,
        planned_start=today - dt.timedelta(days=40),
        planned_end=today - dt.timedelta(days=30),
        inspectors=[reviewer],
        acting_user=reviewer,
    )
    move(closed, "notify", "start")
    f1 = services.finding_record(
        inspection=closed,
        area="catalog",
        severity="moderate",
        description="部分数据资源目录未按更新周期更新，挂接信息不完整。",
        resources=own[:1],
        files=evidence("现场检查记录.pdf"),
        acting_user=reviewer,
    )
    f2 = services.finding_record(
        inspection=closed,
        area="sharing",
        severity="minor",
        description="共享申请台账登记字段不统一。",
        references="共享申请台账 2026 年第三季度",
        acting_user=reviewer,
    )
    move(closed, "record", comment="总体情况良好，发现问题 2 项。")
    services.finding_order(
        finding=f1,
        case="not_provided",
        facts=services.order_facts(f1),
        requirement="限期更新目录并补全挂接信息，上传整改佐证材料。",
        deadline_days=15,
        acting_user=reviewer,
    )
    services.finding_no_action(
        finding=f2, reason="检查期间已当场整改，无需下达整改通知。", acting_user=reviewer
    )
    move(closed, "close")

    others = [
        o
        for o in subjects_for(reviewer)
        .filter(kind=Organization.Kind.CITY_AGENCY)
        .exclude(pk=agency.pk)[:1]
    ]
    if others:
        running = services.inspection_plan(
            subject=others[0],
            kind="special",
            title=MARK + "数据安全专项检查",
            scope=["security"],
            planned_start=today - dt.timedelta(days=3),
            planned_end=today + dt.timedelta(days=7),
            inspectors=[reviewer],
            acting_user=reviewer,
        )
        move(running, "notify", "start")
        services.finding_record(
            inspection=running,
            area="security",
            severity="serious",
            description="前置机未按要求开展安全评估，日志留存不足六个月。",
            files=evidence("安全检查记录.pdf"),
            acting_user=reviewer,
        )
    if operator is not None and operator.organization_id:
        org = operator.organization
        if subjects_for(reviewer).filter(pk=org.pk).exists():
            services.inspection_plan(
                subject=org,
                kind="spot",
                title=MARK + "授权运营情况抽查",
                scope=["operation", "security"],
                planned_start=today + dt.timedelta(days=10),
                planned_end=today + dt.timedelta(days=12),
                inspectors=[reviewer],
                acting_user=reviewer,
            )


register_seeder(Seeder("supervision.inspections", 915, seed))
