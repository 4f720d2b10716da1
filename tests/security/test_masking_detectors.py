"""Detectors of personal data suggest masking rules when a resource is filed: from names and
data elements, and from stored values where the resource has a loaded table; the filer
accepts them on the entry's page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalog import services as catalog_services
from catalog.masking import suggestions_for
from catalog.models import DataItem
from security.masking.detectors import (
    BANK_CARD,
    EMAIL,
    ID_NUMBER,
    MOBILE,
    detect,
    kind_of_name,
    kind_of_value,
    kind_of_values,
)
from tests.aggregation.factories import items_people, make_channel
from tests.aggregation.test_views import load
from tests.catalog.factories import make_agency, make_draft


@pytest.mark.parametrize(
    "value,kind",
    [
        ("11010519491231002X", ID_NUMBER),
        ("110105194912310021", None),  # wrong check digit
        ("13812345678", MOBILE),
        ("+86 13812345678", MOBILE),
        ("12812345678", None),
        ("zhang.san@whu.edu.cn", EMAIL),
        ("zhang@", None),
        ("6222021234567890128", BANK_CARD),  # Luhn-valid
        ("6222021234567890127", None),
        ("", None),
        ("   ", None),
        ("张三", None),
        ("2024-05-06", None),
    ],
)
def test_one_value(value, kind):
    assert kind_of_value(value) == kind


def test_most_of_a_sample_must_match():
    mobiles = [f"1381234{i:04d}" for i in range(10)]
    assert kind_of_values(mobiles) == MOBILE
    assert kind_of_values([*mobiles, None, "", "  "]) == MOBILE  # empties do not count
    assert kind_of_values(mobiles[:7] + ["无"] * 3) is None  # 70% < 80%
    assert kind_of_values(mobiles[:2]) is None  # too few to tell


def test_names_and_element_checksums():
    assert kind_of_name("公民身份号码", "gmsfhm") == ID_NUMBER
    assert kind_of_name("联系电话", "lxdh") == MOBILE
    assert kind_of_name("电子邮箱", "") == EMAIL
    assert kind_of_name("银行卡号", "") == BANK_CARD
    assert kind_of_name("备注", "bz") is None
    assert kind_of_name("证件", "zj", checksum="cn_ric") == ID_NUMBER
    # values win over names; names when values say nothing
    assert detect("备注", values=["13812345678"] * 5).kind == MOBILE
    assert detect("备注", values=["13812345678"] * 5).from_values
    assert detect("联系电话", values=["无"] * 5).kind == MOBILE
    assert detect("备注", values=None) is None


@pytest.fixture
def draft(db):
    agency = make_agency()
    items = [
        {
            "name": "公民身份号码",
            "english_name": "id_no",
            "data_type": "C",
            "length": 18,
            "is_key": True,
        },
        {"name": "联系电话", "english_name": "lxdh", "data_type": "C", "length": 20},
        {
            "name": "电子邮箱",
            "english_name": "email",
            "data_type": "C",
            "length": 50,
            "masking_rule": "全部替换",
        },
        {"name": "备注", "english_name": "bz", "data_type": "C", "length": 50},
    ]
    return agency, make_draft(agency, items=items)


def test_the_entry_page_suggests_rules_and_the_filer_accepts_them(draft, login, staff_b):
    agency, version = draft
    found = {s.item.name: s.rule.name for s in suggestions_for(version)}
    # the e-mail has its own rule already; the note says nothing
    assert found == {"公民身份号码": "保留前6位和后4位", "联系电话": "保留前3位和后4位"}
    c = login(agency.staff)
    page = c.get(reverse("catalog:version", args=[version.pk]))
    assert "保留前6位和后4位" in page.text and "保留前3位和后4位" in page.text
    phone = version.items.get(name="联系电话")
    r = c.post(
        reverse("catalog:version_masking", args=[version.pk]), {"item": [str(phone.pk), "x"]}
    )
    assert r.status_code == 302
    assert DataItem.objects.get(pk=phone.pk).masking_rule.name == "保留前3位和后4位"
    assert DataItem.objects.get(name="公民身份号码", version=version).masking_rule is None
    assert [s.item.name for s in suggestions_for(version)] == ["公民身份号码"]
    # another agency sees no suggestion and cannot accept one
    other = login(staff_b)
    assert (
        other.post(
            reverse("catalog:version_masking", args=[version.pk]), {"item": [str(phone.pk)]}
        ).status_code
        == 404
    )


def test_stored_values_are_recognised_on_a_revision(db):
    items = items_people()
    items[1] = dict(items[1], name="备用字段", english_name="extra", length=20)
    s = make_channel(items=items)
    rows = "".join(f"A{i},1381234{i:04d},30,1990-01-01,1,\n" for i in range(12))
    load(s, "编号,备用字段,年龄,出生日期,金额,更新时间\n" + rows)
    draft = catalog_services.resource_revise(resource=s.resource, acting_user=s.agency.staff)
    found = {x.item.name: x for x in suggestions_for(draft)}
    assert found["备用字段"].detection.kind == MOBILE and found["备用字段"].detection.from_values


def test_the_security_admin_names_an_element_rule_and_items_follow_it(db, bureau, login):
    from aggregation.selectors import masked_columns
    from catalog.models import DataElement
    from security.masking.models import MaskingRule
    from tests.accounts.factories import UserFactory
    from wuhan_pdr.accounts.roles import Role

    admin = UserFactory(organization=bureau, roles=[Role.SECURITY_ADMIN])
    element = DataElement.objects.create(
        identifier="TEST-SJHM", name="手机号码", definition="测试。", data_type="C", format="n11"
    )
    items = items_people()
    items[1] = dict(items[1], name="联系方式", english_name="contact", length=20, element=element)
    s = make_channel(items=items)
    rule = MaskingRule.objects.get(name="保留前3位和后4位")
    url = reverse("standards:element_masking", args=[element.pk])
    # others may not
    assert login(s.agency.staff).post(url, {"masking_rule": rule.pk}).status_code == 404
    element.refresh_from_db()
    assert element.masking_rule is None
    page = login(admin).get(reverse("standards:element", args=[element.identifier]))
    assert url in page.text
    r = login(admin).post(url, {"masking_rule": rule.pk})
    assert r.status_code == 302
    element.refresh_from_db()
    assert element.masking_rule == rule
    assert element.history.first().history_change_reason == "Masking rule set"
    from aggregation.models import DatastoreTable

    load(s, "编号,联系方式,年龄,出生日期,金额,更新时间\nA1,13812345678,30,1990-01-01,1,\n")
    table = DatastoreTable.objects.get(resource=s.resource)
    assert masked_columns(table) == {"contact": rule}
    preview = login(s.agency.staff).get(reverse("aggregation:preview", args=[s.resource.pk]))
    assert "138****5678" in preview.text and "13812345678" not in preview.text
    # an item's own rule overrides the element's
    item = s.resource.published_version.items.get(english_name="contact")
    item.masking_rule = MaskingRule.objects.get(name="全部替换")
    item.save(update_fields=["masking_rule"])
    assert masked_columns(table)["contact"].name == "全部替换"
