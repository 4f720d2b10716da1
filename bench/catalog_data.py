"""Generates a published catalog of any size straight into the benchmark database with COPY:
resources, their published versions, ten data items each and the public read model, the
same rows the filing services would write, written the fast way."""

from __future__ import annotations

import datetime as dt
import random

from django.db import connection
from django.utils import timezone

from catalog import search
from catalog.models import Classification
from security.models import Grade
from wuhan_pdr.accounts.models import Organization, User

PLACES = [
    "武汉市",
    "江岸区",
    "江汉区",
    "硚口区",
    "汉阳区",
    "武昌区",
    "青山区",
    "洪山区",
    "东西湖区",
    "汉南区",
    "蔡甸区",
    "江夏区",
    "黄陂区",
    "新洲区",
    "东湖新区",
    "长江新区",
]
SUBJECTS = [
    "户籍人口",
    "流动人口",
    "企业登记",
    "个体工商户",
    "社会组织",
    "婚姻登记",
    "低保对象",
    "养老机构",
    "医疗机构",
    "药品经营",
    "食品经营",
    "学校",
    "幼儿园",
    "公交线路",
    "出租汽车",
    "道路运输",
    "空气质量",
    "水质监测",
    "噪声监测",
    "不动产",
    "建设工程",
    "公租房",
    "医保定点",
    "社保参保",
    "就业登记",
    "职业技能",
    "景区",
    "文物保护",
    "消防安全",
    "安全生产",
    "特种设备",
    "排水管网",
    "供水管网",
    "燃气管网",
    "路灯设施",
    "停车场",
    "充电桩",
    "地名地址",
    "行政区划",
    "信用评价",
]
ASPECTS = [
    "基本信息",
    "登记信息",
    "许可信息",
    "监测数据",
    "统计数据",
    "变更记录",
    "注销信息",
    "检查结果",
    "处罚信息",
    "名录",
    "分布信息",
    "服务信息",
]
ITEM_NAMES = [
    "编号",
    "名称",
    "统一社会信用代码",
    "所属区域",
    "地址",
    "联系电话",
    "登记日期",
    "状态",
    "负责人",
    "更新时间",
]
ITEM_TYPES = ["C", "C", "C", "C", "C", "C", "D", "C", "C", "T"]
SHARE = ["unconditional", "conditional", "conditional", "none"]
OPEN = {"L1": "unconditional", "L2": "conditional", "L3": "conditional", "L4": "none"}
CYCLES = ["realtime", "daily", "weekly", "monthly", "quarterly", "yearly", "irregular"]


def _bench_user() -> User:
    org = Organization.objects.order_by("pk").first()
    user, _ = User.objects.get_or_create(username="bench_filer", defaults={"organization": org})
    return user


def reset() -> None:
    with connection.cursor() as cur:
        cur.execute(
            "TRUNCATE catalog_catalogentry, catalog_dataitem, catalog_resourceversion_themes,"
            " catalog_resourceversion_related_resources, catalog_historicalresourceversion,"
            " catalog_districtrelease_versions, catalog_districtrelease, catalog_historicalcatalogfeedback,"
            " catalog_catalogfeedback, catalog_resourceversion, catalog_resource CASCADE"
        )


def generate(count: int, *, start: int = 0, seed: int = 2025) -> None:
    """Add resources number start+1 .. start+count, published, with ten items each."""
    rng = random.Random(seed + start)
    user = _bench_user()
    providers = list(
        Organization.objects.filter(kind__in=Organization.AGENCY_KINDS).select_related("division")
    )
    classifications = list(Classification.objects.filter(parent__isnull=False))
    grades = list(Grade.objects.order_by("rank"))
    now = timezone.now()
    resources, versions, items, entries = [], [], [], []
    for n in range(start + 1, start + count + 1):
        provider = providers[n % len(providers)]
        cls = classifications[n % len(classifications)]
        grade = grades[rng.choice([0, 0, 1, 1, 2, 3])]
        share = rng.choice(SHARE)
        open_type = OPEN[grade.code]
        if share == "unconditional" and not grade.may_share_unconditionally:
            share = "conditional"
        cycle = rng.choice(CYCLES)
        name = f"{rng.choice(PLACES)}{rng.choice(SUBJECTS)}{rng.choice(ASPECTS)}"
        summary = f"{provider.name}归集的{name},包括{rng.choice(SUBJECTS)}等{rng.randint(5, 40)}项数据,{rng.choice(ASPECTS)}按{cycle}更新。"
        published = now - dt.timedelta(minutes=n)
        code = f"{cls.code}/{n:06d}"
        resources.append((n, code, provider.pk, cls.pk, n, None, None, published, user.pk))
        versions.append(
            (
                n,
                n,
                1,
                "published",
                None,
                name,
                summary,
                "业务系统",
                "database",
                grade.pk,
                share,
                "按需申请" if share == "conditional" else "",
                "platform",
                "依法不予共享" if share == "none" else "",
                open_type,
                "经审批" if open_type == "conditional" else "",
                "依法不予开放" if open_type == "none" else "",
                False,
                cycle,
                "full",
                "",
                published,
                published,
                user.pk,
                published,
                published,
            )
        )
        for i in range(10):
            items.append(
                (
                    n * 10 + i,
                    n,
                    i + 1,
                    ITEM_NAMES[i],
                    f"col_{i}",
                    ITEM_TYPES[i],
                    50 if ITEM_TYPES[i] == "C" else None,
                    i == 0,
                    False,
                    i != 0,
                    None,
                    None,  # masking_rule_id
                    "",
                )
            )
        doc = search.document((name, "A"), (summary, "B"), (provider.name, "C"))
        entries.append(
            (
                n,
                n,
                code,
                name,
                summary,
                provider.pk,
                provider.name,
                provider.division.code,
                cls.pk,
                share,
                open_type,
                grade.pk,
                cycle,
                published,
                doc,
            )
        )

    with connection.cursor() as cur:
        pg = cur.cursor
        with pg.copy(
            "COPY catalog_resource (id, code, provider_id, classification_id, sequence, published_version_id,"
            " retired_at, created_at, created_by_id) FROM STDIN"
        ) as copy:
            for row in resources:
                copy.write_row(row)
        with pg.copy(
            "COPY catalog_resourceversion (id, resource_id, number, state, step_deadline, name, summary,"
            " source_system, format, grade_id, share_type, share_conditions, share_method,"
            " share_legal_basis, open_type, open_conditions, open_legal_basis, operation_eligible,"
            " update_cycle, update_mode, change_note, created_at, updated_at, created_by_id,"
            " submitted_at, published_at) FROM STDIN"
        ) as copy:
            for row in versions:
                copy.write_row(row)
        with pg.copy(
            "COPY catalog_dataitem (id, version_id, position, name, english_name, data_type, length,"
            " is_key, is_update_flag, nullable, grade_id, masking_rule_id, description) FROM STDIN"
        ) as copy:
            for row in items:
                copy.write_row(row)
        with pg.copy(
            "COPY catalog_catalogentry (resource_id, version_id, code, name, summary, provider_id,"
            " provider_name, division_code, classification_id, share_type, open_type, grade_id,"
            " update_cycle, published_at, search) FROM STDIN"
        ) as copy:
            for row in entries:
                copy.write_row(row)
        cur.execute(
            "UPDATE catalog_resource r SET published_version_id = r.id WHERE r.id BETWEEN %s AND %s",
            [start + 1, start + count],
        )
        for table in ("catalog_resource", "catalog_resourceversion", "catalog_dataitem"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )  # noqa: S608
        cur.execute(
            "ANALYZE catalog_catalogentry; ANALYZE catalog_resource; ANALYZE catalog_resourceversion; ANALYZE catalog_dataitem"
        )
