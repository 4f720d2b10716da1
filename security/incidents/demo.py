"""Demo incidents, an emergency plan and a drill (Art. 26): one closed city incident with its
timeline and lessons, one open district incident (seen by the demo district reviewer), the city
bureau's plan and a drill held under it. Idempotent: found by title, made once."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from wuhan_pdr.accounts.models import Organization, User
from wuhan_pdr.kernel.demo import Seeder, register_seeder

from . import services
from .models import Drill, EmergencyPlan, Incident

PLAN = "武汉市公共数据资源平台数据安全事件应急预案"
DRILL = "2026年度数据泄露应急演练"
CITY_INCIDENT = "共享接口异常调用导致数据批量导出"
DISTRICT_INCIDENT = "区级前置机遭受暴力破解尝试"


def _user(username: str) -> User | None:
    return User.objects.filter(username=username).first()


def seed_incidents(context: dict) -> None:
    admin = _user("demo_security_admin")
    district_reviewer = _user("demo_district_reviewer")
    bureau = Organization.objects.filter(name="武汉市数据局").first()
    agency = Organization.objects.filter(name="武汉市民政局").first()
    if admin is None or bureau is None or agency is None:
        return
    today = timezone.localdate()
    plan = EmergencyPlan.objects.filter(organization=bureau, title=PLAN).first()
    if plan is None:
        plan = services.plan_save(
            organization=bureau,
            fields={
                "title": PLAN,
                "version": "2.0",
                "scope": "市数字资源平台归集、共享、开放及授权运营环节的数据安全事件",
                "content": (
                    "一、组织体系:市数据局牵头,各单位数据安全负责人参加。\n"
                    "二、分级响应:特别重大、重大事件 1 小时内上报,较大事件 4 小时内上报。\n"
                    "三、处置流程:发现、研判、遏制、消除、恢复、总结。\n"
                    "四、保障措施:值班、备份恢复、演练与培训。"
                ),
                "valid_from": dt.date(today.year, 1, 1),
                "valid_until": dt.date(today.year + 2, 12, 31),
            },
            acting_user=admin,
        )
    if not Drill.objects.filter(title=DRILL).exists():
        services.drill_record(
            organization=bureau,
            fields={
                "title": DRILL,
                "plan": plan,
                "held_on": today - dt.timedelta(days=30),
                "scenario": "模拟共享接口账号泄露,攻击者批量调用接口导出人口数据。",
                "participants": "市数据局安全管理员、平台运维团队、市民政局数据管理员",
                "participant_count": 12,
                "findings": "接口限流告警 8 分钟后才被发现;账号停用流程需电话确认,耗时较长。",
                "improvements": "告警接入值班短信;平台增加一键停用接口账号功能。",
            },
            acting_user=admin,
        )
    if not Incident.objects.filter(title=CITY_INCIDENT).exists():
        now = timezone.now()
        incident = services.incident_report(
            organization=agency,
            fields={
                "title": CITY_INCIDENT,
                "level": Incident.Level.LARGE,
                "category": Incident.Category.LEAK,
                "occurred_at": now - dt.timedelta(days=20, hours=3),
                "discovered_at": now - dt.timedelta(days=20, hours=2),
                "summary": "某接口账号在非工作时间大量调用共享接口,超出申请场景范围。",
            },
            resource_codes=[],
            acting_user=admin,
        )
        services.incident_move(incident=incident, transition="respond", acting_user=admin)
        services.incident_entry_add(
            incident=incident,
            kind="action",
            at=now - dt.timedelta(days=20, hours=1),
            text="停用相关接口账号,保全调用日志。",
            acting_user=admin,
        )
        services.incident_entry_add(
            incident=incident,
            kind="report",
            at=now - dt.timedelta(days=19),
            text="向市委网信办报送事件情况。",
            acting_user=admin,
        )
        services.incident_move(
            incident=incident,
            transition="close",
            lessons="共享授权应限定调用时段与频次;异常调用告警须实时推送。",
            acting_user=admin,
        )
    district_org = district_reviewer.organization if district_reviewer is not None else None
    if district_org is not None and not Incident.objects.filter(title=DISTRICT_INCIDENT).exists():
        now = timezone.now()
        services.incident_report(
            organization=district_org,
            fields={
                "title": DISTRICT_INCIDENT,
                "level": Incident.Level.GENERAL,
                "category": Incident.Category.INTRUSION,
                "occurred_at": now - dt.timedelta(days=2),
                "discovered_at": now - dt.timedelta(days=1, hours=20),
                "summary": "区级前置机 SSH 端口出现大量失败登录,来源为境外地址。",
            },
            resource_codes=[],
            acting_user=district_reviewer,
        )


register_seeder(Seeder(name="security_incidents", order=70, run=seed_incidents))
