"""Demo data tools (Art. 27): 武汉市民政局's collection terminal, assessed and in use, and its
analysis software registered and waiting for an assessment (on the security administrator's
overdue list). Idempotent: found by organization, name and version, made once."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from wuhan_pdr.accounts.models import Organization, User
from wuhan_pdr.kernel.demo import Seeder, register_seeder

from ..assessments.services import assessment_record
from . import services
from .assessments import DATA_TOOL_CHECKLIST
from .models import DataTool

TOOLS = (
    {
        "name": "社区人口信息采集终端",
        "vendor": "武汉光谷数据科技有限公司",
        "version": "3.2",
        "category": DataTool.Category.DEVICE,
        "purpose": "社区网格员采集常住人口信息，经政务外网前置机推送至平台。",
    },
    {
        "name": "低保数据比对分析软件",
        "vendor": "湖北某信息技术有限公司",
        "version": "1.0",
        "category": DataTool.Category.PROCESSING,
        "purpose": "比对最低生活保障对象与其他部门数据，部署在局内网。",
    },
)


def seed_tools(context: dict) -> None:
    admin = User.objects.filter(username="demo_security_admin").first()
    officer = User.objects.filter(username="demo_agency_admin").first()
    agency = Organization.objects.filter(name="武汉市民政局").first()
    if admin is None or officer is None or agency is None:
        return
    for number, fields in enumerate(TOOLS):
        if DataTool.objects.filter(
            organization=agency, name=fields["name"], version=fields["version"]
        ).exists():
            continue
        tool = services.tool_register(organization=agency, fields=fields, acting_user=officer)
        if number:
            continue  # the second waits for its assessment
        today = timezone.localdate()
        assessment_record(
            subject_kind=services.SUBJECT_KIND,
            subject_id=tool.pk,
            assessed_on=today,
            result="pass",
            findings="设备已加固，仅连接政务外网；账号最小授权；采集日志保存 180 天。",
            answers=[(q.key, "yes", "") for q in DATA_TOOL_CHECKLIST],
            valid_until=today + dt.timedelta(days=365),
            acting_user=admin,
        )
        services.tool_start_use(tool=tool, acting_user=officer)


register_seeder(Seeder(name="security_tools", order=71, run=seed_tools))
