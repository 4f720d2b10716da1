"""Demo filing data (after the catalog, order 20, and the standards binding, order 30):

- the census: for a few city agencies, one system per source system named by their demo
  resources, linked to those resources; 武汉市民政局 leaves one source system unregistered
  (so its resources show as "not linked") and one system with empty census fields;
- one open campaign, 2026 年度目录编制, opened by demo_city_reviewer;
- IT projects of 武汉市民政局: one approved (立项) with a published resource and a planned one
  on its list, one draft whose list is empty;
- collection-list entries of 武汉市民政局 and 武汉市公安局.

Everything goes through the services, acted by users who hold the right roles. Idempotent:
records that exist (by name) are left alone.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from wuhan_pdr.accounts.models import Organization, User
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.demo import Seeder, register_seeder
from wuhan_pdr.kernel.workdays import add_working_days, today

from ..models import Resource, ResourceVersion
from . import services
from .models import (
    CollectionListEntry,
    CompilationCampaign,
    InformationSystem,
    ITProject,
)

CAMPAIGN = "2026 年度目录编制"
MINZHENG = "武汉市民政局"
# Agency -> (builder, source systems left out of the census).
CENSUS_AGENCIES = {
    MINZHENG: ("武汉市大数据中心", {"区划地名管理系统"}),
    "武汉市公安局": ("公安部第一研究所", set()),
    "武汉市人力资源和社会保障局": ("湖北省人社信息中心", set()),
    "武汉市卫生健康委员会": ("武汉市卫生信息中心", set()),
}
# A system left with empty census fields (no builder, go-live date or volume).
INCOMPLETE = "收养登记管理信息系统"
DB_KINDS = ["postgresql", "oracle", "dameng", "kingbase", "mysql"]

PROJECT_APPROVED = "智慧养老服务平台升级项目"
PROJECT_EMPTY = "婚姻登记系统国产化改造项目"

COLLECTION = {
    MINZHENG: [
        (
            "婚姻登记信息",
            "《婚姻登记条例》第七条、第十一条",
            "MZ/T 093-2017《婚姻登记信息数据规范》",
            "form",
            "on_occurrence",
            "在本市办理婚姻登记的当事人",
            "婚姻登记信息",
        ),
        (
            "最低生活保障申请信息",
            "《社会救助暂行办法》第十一条",
            "《最低生活保障审核确认办法》",
            "form",
            "on_occurrence",
            "申请最低生活保障的城乡家庭及成员",
            "最低生活保障对象信息",
        ),
        (
            "养老机构备案信息",
            "《养老机构管理办法》第九条",
            "GB/T 35796-2017《养老机构服务质量基本规范》",
            "system",
            "monthly",
            "在本市备案的养老机构",
            "养老机构信息",
        ),
        (
            "标准地名采集信息",
            "《地名管理条例》第十九条",
            "GB/T 18521-2001《地名分类与类别代码编制规则》",
            "survey",
            "irregular",
            "本市行政区域内的标准地名",
            "",
        ),
    ],
    "武汉市公安局": [
        (
            "户籍登记信息",
            "《中华人民共和国户口登记条例》第三条",
            "GA/T 2000《公安信息代码》",
            "form",
            "on_occurrence",
            "本市户籍人口",
            "户籍人口基本信息",
        ),
        (
            "机动车登记信息",
            "《机动车登记规定》第五条",
            "GA 24《机动车登记信息代码》",
            "system",
            "realtime",
            "在本市登记的机动车",
            "机动车登记信息",
        ),
    ],
}


def _staff_of(org: Organization) -> User | None:
    return (
        User.objects.filter(organization=org, groups__name=Role.AGENCY_STAFF, is_active=True)
        .order_by("username")
        .first()
    )


def _resources_by_name(org: Organization) -> dict[str, Resource]:
    """Live resources of `org` by the name of their latest version."""
    out: dict[str, Resource] = {}
    versions = (
        ResourceVersion.objects.filter(resource__provider=org, resource__retired_at__isnull=True)
        .select_related("resource")
        .order_by("resource_id", "number")
    )
    for v in versions:
        out[v.name] = v.resource
    return out


def _seed_census(org: Organization, staff: User, builder: str, left_out: set[str]) -> None:
    systems: dict[str, list[Resource]] = defaultdict(list)
    versions = (
        ResourceVersion.objects.filter(resource__provider=org, resource__retired_at__isnull=True)
        .exclude(source_system="")
        .select_related("resource")
        .order_by("resource_id", "-number")
    )
    seen = set()
    for v in versions:
        if v.resource_id in seen:
            continue
        seen.add(v.resource_id)
        systems[v.source_system].append(v.resource)
    existing = set(
        InformationSystem.objects.filter(organization=org).values_list("name", flat=True)
    )
    for i, (name, resources) in enumerate(sorted(systems.items())):
        if name in left_out or name in existing:
            continue
        incomplete = name == INCOMPLETE
        services.system_create(
            organization=org,
            fields={
                "name": name,
                "purpose": f"支撑{org.short_name or org.name}{name.replace('信息系统', '').replace('系统', '')}业务办理与数据管理。",
                "builder": "" if incomplete else builder,
                "budget_funded": True,
                "go_live_date": None if incomplete else dt.date(2015 + i % 8, 1 + i % 12, 1),
                "database_kind": DB_KINDS[i % len(DB_KINDS)],
                "data_volume_gb": None if incomplete else Decimal(50 * (i + 1)),
                "status": InformationSystem.Status.IN_USE,
                "contact_name": staff.full_name or staff.username,
                "contact_phone": f"027-8{i:03d}{org.pk % 10000:04d}",
            },
            resources=resources,
            acting_user=staff,
        )


def _seed_campaign(reviewer: User) -> None:
    if CompilationCampaign.objects.filter(name=CAMPAIGN).exists():
        return
    services.campaign_open(
        name=CAMPAIGN,
        year=2026,
        deadline=add_working_days(today(), 20),
        description=(
            "按照信息系统普查、元数据收集梳理、公共数据资源目录编制、目录发布及维护的流程,"
            "完成本年度公共数据资源目录编制。请各单位在截止日期前完成目录发布。"
        ),
        acting_user=reviewer,
    )


def _seed_projects(org: Organization, staff: User, reviewer: User) -> None:
    existing = set(ITProject.objects.filter(organization=org).values_list("name", flat=True))
    resources = _resources_by_name(org)
    if PROJECT_APPROVED not in existing:
        project = services.project_create(
            organization=org,
            fields={
                "name": PROJECT_APPROVED,
                "budget_amount": Decimal("3800000.00"),
                "year": 2026,
                "description": "升级养老服务信息平台,新增养老服务补贴线上申领和机构床位动态监测。",
            },
            acting_user=staff,
        )
        for name in ("社区养老服务设施信息", "养老机构信息"):
            if name in resources:
                services.project_entry_add(
                    project=project, resource=resources[name], acting_user=staff
                )
        services.project_entry_add(
            project=project,
            planned_name="养老服务补贴申领信息",
            note="平台升级后新增,验收前完成编目",
            acting_user=staff,
        )
        services.project_transition(project=project, action="submit", acting_user=staff)
        services.project_transition(project=project, action="approve", acting_user=reviewer)
    if PROJECT_EMPTY not in existing:
        services.project_create(
            organization=org,
            fields={
                "name": PROJECT_EMPTY,
                "budget_amount": Decimal("1250000.00"),
                "year": 2026,
                "description": "婚姻登记管理信息系统迁移至国产数据库和操作系统。",
            },
            acting_user=staff,
        )


def _seed_collection(org: Organization, staff: User) -> None:
    existing = set(
        CollectionListEntry.objects.filter(organization=org).values_list("data_name", flat=True)
    )
    resources = _resources_by_name(org)
    for data_name, basis, norms, method, frequency, scope, resource in COLLECTION.get(org.name, []):
        if data_name in existing:
            continue
        services.collection_entry_create(
            organization=org,
            fields={
                "data_name": data_name,
                "legal_basis": basis,
                "norms": norms,
                "method": method,
                "frequency": frequency,
                "subject_scope": scope,
            },
            resource=resources.get(resource) if resource else None,
            acting_user=staff,
        )


def seed_filing(context: dict) -> None:
    reviewer = User.objects.filter(username="demo_city_reviewer").first()
    for name, (builder, left_out) in CENSUS_AGENCIES.items():
        org = Organization.objects.filter(name=name).first()
        staff = _staff_of(org) if org else None
        if staff is None:
            continue
        _seed_census(org, staff, builder, left_out)
        _seed_collection(org, staff)
        if name == MINZHENG and reviewer is not None:
            _seed_projects(org, staff, reviewer)
    if reviewer is not None:
        _seed_campaign(reviewer)


register_seeder(Seeder(name="filing", order=40, run=seed_filing))
