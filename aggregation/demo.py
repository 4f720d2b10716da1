"""Demo aggregation data (order 50, after the catalog at 20 and the census at 40):

- a file channel of 武汉市民政局 for its published resource 地名信息, set up by
  demo_agency_staff, signed off by demo_security_admin, activated, and loaded with a CSV of
  standard place names written to a temporary directory; the batch runs synchronously here
  (services.batch_run), so the data is there without a worker;
- a planned maintenance window of the system behind that resource, next week.

- a push channel (社会组织登记信息) loaded through the push services, and a database-extraction
  channel (最低生活保障对象信息) reading a stand-in table in the schema `demo_source`. Everything goes through the services. Idempotent: an existing channel (by
resource and name), a succeeded batch and an existing window (by system and description) are
left alone.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from catalog.filing.models import InformationSystem
from catalog.models import Resource
from security.assessments import has_valid_pass
from security.assessments.services import assessment_record
from wuhan_pdr.accounts.models import User
from wuhan_pdr.kernel.demo import Seeder, register_seeder

from . import services
from .assessments import CHANNEL_CHECKLIST
from .models import Batch, Channel, ChannelKind, DowntimeReport, SourceKind

AGENCY = "武汉市民政局"
RESOURCE = "地名信息"
SYSTEM = "地名信息管理系统"
CHANNEL = "地名信息文件上传"
WINDOW = "地名信息管理系统版本升级,升级期间暂停数据推送与查询。"

# dmdm 地名代码 (key), bzmc 标准名称, lmzmpx 罗马字母拼写, dmlb 地名类别, xzqhdm 所属行政区划代码,
# jd / wd 中心点经纬度, mmly 命名由来.
HEADER = [
    "地名代码",
    "标准名称",
    "罗马字母拼写",
    "地名类别",
    "所属行政区划代码",
    "中心点经度",
    "中心点纬度",
    "命名由来",
]
PLACES = [
    (
        "420102001",
        "江汉路",
        "Jianghan Lu",
        "1101",
        "420102",
        114.2861,
        30.5803,
        "因连接江汉关而得名。",
    ),
    (
        "420102002",
        "黎黄陂路",
        "Lihuangpi Lu",
        "1101",
        "420102",
        114.2968,
        30.5879,
        "纪念辛亥革命人物黎元洪(黄陂人)。",
    ),
    (
        "420103001",
        "花楼街",
        "Hualou Jie",
        "1102",
        "420103",
        114.2832,
        30.5748,
        "旧时街内多雕花楼阁。",
    ),
    (
        "420104001",
        "汉正街",
        "Hanzheng Jie",
        "1102",
        "420104",
        114.2727,
        30.5721,
        "明清时汉口的正街。",
    ),
    (
        "420105001",
        "归元寺路",
        "Guiyuansi Lu",
        "1101",
        "420105",
        114.2609,
        30.5512,
        "因归元禅寺得名。",
    ),
    (
        "420105002",
        "晴川阁",
        "Qingchuan Ge",
        "2301",
        "420105",
        114.2822,
        30.5534,
        "取崔颢诗句“晴川历历汉阳树”。",
    ),
    (
        "420106001",
        "黄鹤楼",
        "Huanghe Lou",
        "2301",
        "420106",
        114.3025,
        30.5447,
        "传说仙人乘黄鹤于此。",
    ),
    ("420106002", "昙华林", "Tanhualin", "1102", "420106", 114.3070, 30.5528, "旧时此地多种昙花。"),
    ("420106003", "东湖", "Dong Hu", "1401", "420106", 114.3857, 30.5561, "位于武昌城东。"),
    (
        "420107001",
        "青山公园",
        "Qingshan Gongyuan",
        "2302",
        "420107",
        114.3903,
        30.6370,
        "位于青山区。",
    ),
    (
        "420111001",
        "光谷广场",
        "Guanggu Guangchang",
        "2303",
        "420111",
        114.3985,
        30.5054,
        "因中国光谷得名。",
    ),
    (
        "420111002",
        "珞珈山",
        "Luojia Shan",
        "1301",
        "420111",
        114.3655,
        30.5402,
        "闻一多取“珞珈”谐音命名。",
    ),
    ("420112001", "金银湖", "Jinyin Hu", "1401", "420112", 114.1906, 30.6542, "由金湖、银湖合称。"),
    (
        "420114001",
        "知音湖",
        "Zhiyin Hu",
        "1401",
        "420114",
        114.0326,
        30.5824,
        "取伯牙子期知音故事。",
    ),
    ("420115001", "梁子湖", "Liangzi Hu", "1401", "420115", 114.5478, 30.2567, "湖中有梁子岛。"),
    ("420116001", "木兰山", "Mulan Shan", "1301", "420116", 114.4021, 31.1059, "相传为木兰故里。"),
    (
        "420117001",
        "问津书院",
        "Wenjin Shuyuan",
        "2301",
        "420117",
        114.7305,
        30.8456,
        "取“孔子使子路问津”典故。",
    ),
]


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _resource() -> Resource | None:
    return (
        Resource.objects.filter(
            provider__name=AGENCY,
            published_version__name=RESOURCE,
            retired_at__isnull=True,
        )
        .select_related("published_version")
        .first()
    )


def demo_csv(path: Path) -> Path:
    """The demo place names as a UTF-8 CSV whose header uses the item names."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(PLACES)
    return path


def _assess(channel: Channel, findings: str) -> None:
    """A passed security assessment of the channel (Art. 27), unless it holds a valid one."""
    if has_valid_pass(services.ASSESSMENT_KIND, channel.pk):
        return
    assessment_record(
        subject_kind=services.ASSESSMENT_KIND,
        subject_id=channel.pk,
        assessed_on=timezone.localdate(),
        result="pass",
        findings=findings,
        answers=[(q.key, "yes", "") for q in CHANNEL_CHECKLIST],
        valid_until=timezone.localdate() + dt.timedelta(days=365),
        acting_user=_user("demo_security_admin"),
    )


def seed_file_channel(context: dict) -> Channel | None:
    resource = _resource()
    if resource is None:
        return None
    staff = _user("demo_agency_staff")
    system = InformationSystem.objects.filter(
        organization_id=resource.provider_id, name=SYSTEM
    ).first()
    channel = Channel.objects.filter(resource=resource, name=CHANNEL).first()
    if channel is None:
        channel = services.channel_create(
            resource=resource,
            kind=ChannelKind.FILE,
            name=CHANNEL,
            access_requirements="政务外网访问;由市民政局数据管理员上传;文件经平台传输加密(HTTPS)。",
            source_kind=SourceKind.LOCAL,
            information_system=system,
            acting_user=staff,
        )
    _assess(channel, "已核验上传人员权限、传输加密与数据分级(L1),同意启用。")
    if channel.state != Channel.State.ACTIVE:
        channel = services.channel_activate(channel=channel, acting_user=staff)
    if not channel.batches.filter(status=Batch.Status.SUCCEEDED).exists():
        with tempfile.TemporaryDirectory(prefix="demo-agg-") as tmp:
            path = demo_csv(Path(tmp) / "地名信息.csv")
            upload = SimpleUploadedFile(path.name, path.read_bytes(), content_type="text/csv")
        batch = services.batch_upload(channel=channel, uploaded=upload, acting_user=staff)
        # No worker during the seed: load now. The queued job finds the batch done later.
        services.batch_run(batch_id=batch.pk)
    context["aggregation_file_channel"] = channel
    return channel


def seed_downtime(context: dict) -> None:
    system = InformationSystem.objects.filter(organization__name=AGENCY, name=SYSTEM).first()
    if system is None:
        return
    if DowntimeReport.objects.filter(information_system=system, description=WINDOW).exists():
        return
    local = timezone.localtime(timezone.now())
    starts = (local + dt.timedelta(days=7)).replace(hour=22, minute=0, second=0, microsecond=0)
    services.downtime_report_create(
        information_system=system,
        kind=DowntimeReport.Kind.UPGRADE,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=4),
        description=WINDOW,
        acting_user=_user("demo_agency_staff"),
    )


PUSH_RESOURCE = "社会组织登记信息"
PUSH_CHANNEL = "社会组织登记信息前置机推送"
EXTRACT_RESOURCE = "最低生活保障对象信息"
EXTRACT_CHANNEL = "最低生活保障对象数据库抽取"
# The demo stands in for the agency's database with a schema of the portal's own database
# (no second server needed at a demo site); a real channel points at the agency's server.
DEMO_SOURCE_SCHEMA = "demo_source"
DEMO_SOURCE_TABLE = "dibao_family"
DEMO_ROWS = 40
WUHAN_DISTRICTS = (
    "420102", "420103", "420104", "420105", "420106", "420107", "420111",
    "420112", "420113", "420114", "420115", "420116", "420117",
)  # fmt: skip


def _published(name: str) -> Resource | None:
    return (
        Resource.objects.filter(
            provider__name=AGENCY, published_version__name=name, retired_at__isnull=True
        )
        .select_related("published_version")
        .first()
    )


def _id_number(i: int) -> str:
    """A citizen ID number of a made-up person born in 武汉 in 1960-1999 that passes the
    GB 11643 check (python-stdnum knows the city code 420100 for those years)."""
    from stdnum.cn import ric

    stem = f"420100{1960 + i % 40}{1 + i % 12:02d}{1 + i % 28:02d}{100 + i:03d}"
    return stem + ric.calc_check_digit(stem + "0")


def _sample(column, i: int):
    """A plausible value for a column of a demo row (deterministic)."""
    from .datastore import Column  # noqa: F401  (for the reader: `column` is a Column)

    dt_ = column.data_type
    if "信用代码" in column.item:
        from wuhan_pdr.accounts.demo import demo_credit_code

        # 5 (civil affairs registration), 1 (social organization), a valid check digit.
        return demo_credit_code("5", "1", "420100", 91000 + i)
    if "身份号码" in column.item:
        return _id_number(i)
    if "行政区划代码" in column.item:
        # Wuhan's districts; two rows carry a code that does not exist, so that the demo's
        # quality checks have one real finding to show (a code-list, i.e. normativeness, issue).
        return "429999" if i in (7, 23) else WUHAN_DISTRICTS[i % len(WUHAN_DISTRICTS)]
    if column.key:
        return f"{column.name.upper()}{420100 + i:06d}"[: column.length or 30]
    if dt_ == "I":
        return 1 + i % 5
    if dt_ in ("N", "Y", "B", "F"):
        return round(600 + 37.5 * (i % 9), 2)
    if dt_ == "D":
        return (dt.date(2024, 1, 1) + dt.timedelta(days=11 * i)).isoformat()
    if dt_ == "T":
        return f"2025-0{1 + i % 9}-1{i % 9} 09:{i % 60:02d}:00"
    if dt_ == "L":
        return i % 2 == 0
    text = f"{column.item}{i + 1}"
    return text[: column.length] if column.length else text


def _demo_rows(resource: Resource, count: int) -> tuple[list, list[list]]:
    from .datastore import published_columns

    columns = published_columns(resource)
    return columns, [[_sample(c, i) for c in columns] for i in range(count)]


def _ready_channel(
    resource: Resource, *, kind: str, name: str, access: str, config=None, secret=""
):
    staff = _user("demo_agency_staff")
    channel = Channel.objects.filter(resource=resource, name=name).first()
    if channel is None:
        channel = services.channel_create(
            resource=resource,
            kind=kind,
            name=name,
            access_requirements=access,
            source_kind=SourceKind.LOCAL,
            config=config or {},
            acting_user=staff,
        )
        if secret:
            channel = services.channel_update(channel=channel, secret=secret, acting_user=staff)
    _assess(channel, "已核验接入方式、账号权限与传输加密,同意启用。")
    if kind == ChannelKind.PUSH and not channel.token_hash:
        services.channel_token_rotate(channel=channel, acting_user=staff)
        channel.refresh_from_db()
    if channel.state != Channel.State.ACTIVE:
        channel = services.channel_activate(channel=channel, acting_user=staff)
    return channel


def seed_push_channel(context: dict) -> Channel | None:
    """社会组织登记信息 pushed from the agency's front-end machine, through the same services
    as the ingest API (push.push_demo_rows), then loaded here."""
    from .push import push_demo_rows

    resource = _published(PUSH_RESOURCE)
    if resource is None:
        return None
    channel = _ready_channel(
        resource,
        kind=ChannelKind.PUSH,
        name=PUSH_CHANNEL,
        access="前置机经政务外网以 HTTPS 推送;令牌由市民政局数据管理员保管。",
    )
    if not channel.batches.filter(status=Batch.Status.SUCCEEDED).exists():
        columns, rows = _demo_rows(resource, DEMO_ROWS)
        objects = [dict(zip((c.name for c in columns), row, strict=True)) for row in rows]
        batch = push_demo_rows(channel=channel, batch_id="demo-2025-01", rows=objects)
        services.batch_run(batch_id=batch.pk)
    return channel


def _demo_source_table(resource: Resource) -> None:
    """The stand-in agency table, filled once: same column names as the resource's items.
    Written on a connection of its own and committed at once: the extraction reads it over
    another connection while the seed's transaction is still open."""
    import psycopg
    from django.db import connection
    from psycopg import sql

    columns, rows = _demo_rows(resource, DEMO_ROWS)
    table = sql.Identifier(DEMO_SOURCE_SCHEMA, DEMO_SOURCE_TABLE)
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(DEMO_SOURCE_SCHEMA))
        )
        cur.execute(
            sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(
                table,
                sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.type))
                    for c in columns
                ),
            )
        )
        cur.execute(sql.SQL("SELECT count(*) FROM {}").format(table))
        if cur.fetchone()[0]:
            return
        cur.executemany(
            sql.SQL("INSERT INTO {} VALUES ({})").format(
                table, sql.SQL(", ").join(sql.Placeholder() * len(columns))
            ),
            rows,
        )


def seed_extract_channel(context: dict) -> Channel | None:
    """最低生活保障对象信息 extracted incrementally from a database table."""
    from django.conf import settings

    resource = _published(EXTRACT_RESOURCE)
    if resource is None:
        return None
    _demo_source_table(resource)
    db = settings.DATABASES["default"]
    channel = _ready_channel(
        resource,
        kind=ChannelKind.DB_EXTRACT,
        name=EXTRACT_CHANNEL,
        access="只读账号经政务外网专线访问湖北省社会救助信息系统前置库;每日 02:00 抽取。",
        config={
            "engine": "postgresql",
            "host": db.get("HOST") or "127.0.0.1",
            "port": int(db.get("PORT") or 5432),
            "database": db["NAME"],
            "user": db.get("USER") or "postgres",
            "table": f"{DEMO_SOURCE_SCHEMA}.{DEMO_SOURCE_TABLE}",
        },
        secret=db.get("PASSWORD") or "",
    )
    if not channel.batches.filter(status=Batch.Status.SUCCEEDED).exists():
        batch = services.batch_start(channel=channel, acting_user=_user("demo_agency_staff"))
        services.batch_run(batch_id=batch.pk)
    return channel


def seed_push_and_extract(context: dict) -> None:
    """A push channel and a database-extraction channel, each with data."""
    seed_push_channel(context)
    seed_extract_channel(context)


def seed_aggregation(context: dict) -> None:
    seed_file_channel(context)
    seed_downtime(context)
    seed_push_and_extract(context)


register_seeder(Seeder(name="aggregation", order=50, run=seed_aggregation))
