"""Open resources with data, loaded through the real services."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from aggregation import services as aggregation_services
from aggregation.models import ChannelKind
from authorization.opendata import services
from tests.aggregation.factories import Setup, assess_channel
from tests.catalog.factories import grade, make_agency, make_city_bureau, make_published

HEADER = "编号,姓名,电话,年龄,备注\n"


def open_items(*, secret_grade: bool = False) -> list[dict]:
    """A key, a name, a phone masked by keeping its first 3 and last 4 digits, an age and a
    remark; with `secret_grade`, the remark is of that (stricter) grade."""
    items = [
        {"name": "编号", "english_name": "code", "data_type": "C", "length": 20, "is_key": True},
        {"name": "姓名", "english_name": "full_name", "data_type": "C", "length": 50},
        {
            "name": "电话",
            "english_name": "phone",
            "data_type": "C",
            "length": 20,
            "masking_rule": "保留前3位和后4位",
        },
        {"name": "年龄", "english_name": "age", "data_type": "I"},
        {"name": "备注", "english_name": "remark", "data_type": "C", "length": 200},
    ]
    if secret_grade:
        items[4]["grade"] = closed_grade()
    return items


def closed_grade():
    """A grade the security administrator made below L1 that may not be opened (the grade
    table is theirs): an item of it may sit in an L1 resource, and is never public."""
    from security.models import Grade

    found, _ = Grade.objects.get_or_create(
        code="L0",
        defaults={
            "name": "内部",
            "rank": 0,
            "may_share_unconditionally": True,
            "may_open_unconditionally": False,
            "may_open_conditionally": False,
            "masking_required": False,
            "storage_zone": "general",
        },
    )
    return found


def rows(n: int, start: int = 1) -> str:
    return HEADER + "".join(
        f"K{i:05d},姓名{i},1380000{i:04d},{20 + i % 50},备注{i}\n" for i in range(start, start + n)
    )


OPEN_FIELDS = {
    "grade": "L1",
    "share_type": "unconditional",
    "share_conditions": "",
    "open_type": "unconditional",
    "open_legal_basis": "",
    "summary": "本市养老机构的名称、床位和联系电话。",
}


def make_open(*, n: int = 5, open_type: str = "unconditional", name: str = "养老机构信息", **kw):
    """A published resource of grade L1 opened as `open_type` with an active file channel,
    loaded with `n` rows (if n)."""
    fields = dict(OPEN_FIELDS, open_type=open_type, name=name)
    if open_type == "conditional":
        fields["open_conditions"] = "签署数据利用协议。"
    if open_type == "none":
        fields["open_legal_basis"] = "《中华人民共和国个人信息保护法》第十三条"
    items = kw.pop("items", None) or open_items()
    fields.update(kw)
    fields["grade"] = grade(fields["grade"])
    agency = make_agency()
    version = make_published(agency, make_city_bureau().reviewer, items=items, **fields)
    resource = version.resource
    resource.refresh_from_db()
    channel = aggregation_services.channel_create(
        resource=resource,
        kind=ChannelKind.FILE,
        name="测试通道",
        access_requirements="政务外网",
        acting_user=agency.staff,
    )
    assess_channel(channel)
    channel = aggregation_services.channel_activate(channel=channel, acting_user=agency.staff)
    setup = Setup(agency=agency, resource=resource, channel=channel)
    if n:
        load(setup, rows(n))
    return setup


def load(setup, content: str):
    batch = aggregation_services.batch_upload(
        channel=setup.channel,
        uploaded=SimpleUploadedFile("data.csv", content.encode()),
        acting_user=setup.agency.staff,
    )
    return aggregation_services.batch_run(batch_id=batch.pk)


def city_licence():
    return services.licence_save(
        name="武汉市公共数据开放许可协议", url="", text="免费使用,注明来源。", is_default=True
    )
