"""Demo open data (order 62, after aggregation at 50):

- the city's default open-data licence (武汉市公共数据开放许可协议) and CC BY 4.0;
- 养老机构信息 of 武汉市民政局 (open unconditionally, its 联系电话 masked) loaded through a
  file channel like aggregation's demo, synchronously;
- the open-data files of every open resource with data (地名信息, 社会组织登记信息 from
  aggregation's demo, 养老机构信息), built synchronously, so that /open/ has downloads without
  a worker.

Idempotent: an existing licence, channel, succeeded batch or current files are left alone.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from aggregation import services as aggregation_services
from aggregation.datastore import published_columns
from aggregation.models import Batch, Channel, ChannelKind, DatastoreTable, SourceKind
from catalog.models import Resource
from catalog.public import open_data_resources_q
from wuhan_pdr.accounts.models import User
from wuhan_pdr.kernel.demo import Seeder, register_seeder

from . import services
from .models import Licence, OpenDataset

AGENCY = "武汉市民政局"
RESOURCE = "养老机构信息"
CHANNEL = "养老机构信息文件上传"
ROWS = 40
DISTRICTS = ["420102", "420103", "420104", "420105", "420106", "420107", "420111", "420115"]

CITY_LICENCE = "武汉市公共数据开放许可协议"
CITY_LICENCE_TEXT = """一、使用者可以免费获取、复制、传播和使用本平台无条件开放的公共数据,可用于商业和非商业用途。
二、使用者应当在显著位置注明数据来源为“武汉市公共数据资源平台”及数据提供单位。
三、使用者不得利用开放数据从事违法活动,不得试图通过关联、比对等方式重新识别已脱敏的个人信息。
四、使用者不得歪曲开放数据的内容,不得以开放数据冒充政府发布的信息。
五、本平台按现状提供数据,不对数据的完整性、及时性作出保证;数据更新以平台发布为准。
六、违反本协议的,平台可以停止向其提供开放数据服务,并依法追究责任。"""
CC_BY = "知识共享署名 4.0 国际许可协议 (CC BY 4.0)"
CC_BY_URL = "https://creativecommons.org/licenses/by/4.0/legalcode.zh-hans"
CC_BY_TEXT = "在注明出处的前提下,您可以自由地共享和演绎本数据,包括商业性使用。"


def _value(column, i: int):
    from wuhan_pdr.accounts.demo import demo_credit_code

    if "信用代码" in column.item:
        return demo_credit_code("5", "2", "420100", 92000 + i)
    if "行政区划代码" in column.item:
        return DISTRICTS[i % len(DISTRICTS)]
    if "电话" in column.item:
        return f"027{85000000 + 137 * i:08d}"
    if "名称" in column.item:
        return f"武汉市第{i + 1}社会福利院"
    if "地址" in column.item:
        return f"武汉市江汉区民意{1 + i % 9}路{10 + i}号"
    if column.key:
        return f"YL{420100 + i:06d}"
    if column.data_type == "I":
        return 50 + 10 * (i % 12)
    if column.data_type == "D":
        return (dt.date(2023, 3, 1) + dt.timedelta(days=9 * i)).isoformat()
    if column.data_type == "T":
        return f"2025-0{1 + i % 9}-1{i % 9} 10:{i % 60:02d}:00"
    return "自理、介护老人" if "对象" in column.item else f"{column.item}{i + 1}"


def _csv(resource: Resource) -> bytes:
    columns = published_columns(resource)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.item for c in columns])
    for i in range(ROWS):
        writer.writerow([_value(c, i) for c in columns])
    return out.getvalue().encode()


def seed_licences(context: dict) -> None:
    services.licence_save(
        name=CITY_LICENCE, url="", text=CITY_LICENCE_TEXT, is_default=True, acting_user=None
    )
    services.licence_save(name=CC_BY, url=CC_BY_URL, text=CC_BY_TEXT, acting_user=None)


def seed_elderly_care(context: dict) -> None:
    from aggregation.assessments import CHANNEL_CHECKLIST
    from security.assessments import has_valid_pass
    from security.assessments.services import assessment_record

    resource = (
        Resource.objects.filter(
            provider__name=AGENCY, published_version__name=RESOURCE, retired_at__isnull=True
        )
        .select_related("published_version")
        .first()
    )
    staff = User.objects.filter(username="demo_agency_staff").first()
    assessor = User.objects.filter(username="demo_security_admin").first()
    if resource is None or staff is None or assessor is None:
        return
    channel = Channel.objects.filter(resource=resource, name=CHANNEL).first()
    if channel is None:
        channel = aggregation_services.channel_create(
            resource=resource,
            kind=ChannelKind.FILE,
            name=CHANNEL,
            access_requirements="经办人通过政务外网登录平台上传,文件经病毒扫描后入库。",
            source_kind=SourceKind.LOCAL,
            acting_user=staff,
        )
    if not has_valid_pass("channel", channel.pk):
        today = timezone.localdate()
        assessment_record(
            subject_kind="channel",
            subject_id=channel.pk,
            assessed_on=today,
            result="pass",
            findings="已核验上传账号权限与文件检查,同意启用。",
            answers=[(q.key, "yes", "") for q in CHANNEL_CHECKLIST],
            valid_until=today + dt.timedelta(days=365),
            acting_user=assessor,
        )
    if channel.state != Channel.State.ACTIVE:
        channel = aggregation_services.channel_activate(channel=channel, acting_user=staff)
    if not channel.batches.filter(status=Batch.Status.SUCCEEDED).exists():
        batch = aggregation_services.batch_upload(
            channel=channel,
            uploaded=SimpleUploadedFile("养老机构信息.csv", _csv(resource)),
            acting_user=staff,
        )
        aggregation_services.batch_run(batch_id=batch.pk)


def seed_files(context: dict) -> None:
    """Build the files of every open resource with data, unless they are current."""
    cc_by = Licence.objects.filter(name=CC_BY).first()
    loaded = DatastoreTable.objects.filter(
        last_loaded_at__isnull=False, resource__retired_at__isnull=True
    ).filter(open_data_resources_q("resource__entry"))
    for table in loaded.select_related("resource__published_version"):
        resource = table.resource
        # One resource under CC BY, so that the licence facet has two values.
        licence = cc_by if resource.published_version.name == "地名信息" else None
        dataset = services.dataset_ensure(resource=resource, licence=licence)
        current = (
            dataset.state == OpenDataset.State.READY
            and dataset.built_generation == table.generation
            and dataset.built_at is not None
            and dataset.built_at >= table.last_loaded_at
            and dataset.files.count() == 3
        )
        if not current:
            services.downloads_build(resource_id=resource.pk)


def seed_opendata(context: dict) -> None:
    seed_licences(context)
    seed_elderly_care(context)
    seed_files(context)


register_seeder(Seeder(name="opendata", order=62, run=seed_opendata))
