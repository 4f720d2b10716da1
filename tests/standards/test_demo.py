"""The demo standards (catalog/standards/demo.py): code lists and 30-odd elements seeded
before the catalog, idempotent; demo items bound to elements by name or synonym after it."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.utils import translation

from catalog.models import CodeList, CodeValue, DataElement, DataItem
from catalog.standards import demo
from catalog.standards.validation import compile_validator, validate_value
from tests.accounts.factories import OrganizationFactory, UserFactory
from tests.catalog import factories as cf
from tests.catalog.conftest import ensure_catalog_base_data
from wuhan_pdr.accounts.demo import DISTRICTS, demo_credit_code
from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role

pytestmark = pytest.mark.django_db


def run_seed_demo_standards():
    """`seed_demo --only standards`: the accounts seeder, then the standards seeder."""
    call_command("seed_demo", only=["standards"], stdout=io.StringIO())


@pytest.fixture
def seeded(db):
    """The standards seeder alone, with the context the accounts seeder would give it."""
    bureau = OrganizationFactory(name=demo.BUREAU, kind=Organization.Kind.CITY_BUREAU)
    reviewer = UserFactory(
        username="demo_city_reviewer", organization=bureau, roles=[Role.CITY_REVIEWER]
    )
    demo.seed_standards(
        {"organizations": {demo.BUREAU: bureau}, "users": {str(Role.CITY_REVIEWER): reviewer}}
    )
    return {e.name: e for e in DataElement.objects.all()}


def test_seeded_code_lists(seeded):
    counts = {
        c.identifier: c.values.count()
        for c in CodeList.objects.filter(identifier__in=demo.CODE_LISTS)
    }
    assert counts == {demo.SEX: 4, demo.MARITAL: 8, demo.ETHNIC: 58, demo.DIVISIONS: 30}
    sex = dict(CodeValue.objects.filter(code_list__identifier=demo.SEX).values_list("code", "name"))
    assert sex == {"0": "未知的性别", "1": "男性", "2": "女性", "9": "未说明的性别"}
    divisions = CodeValue.objects.filter(code_list__identifier=demo.DIVISIONS)
    assert divisions.filter(parent_code="420000").count() == 17
    assert dict(divisions.filter(parent_code="420100").values_list("code", "name")) == dict(
        DISTRICTS
    )
    ethnic = dict(
        CodeValue.objects.filter(code_list__identifier=demo.ETHNIC).values_list("code", "name")
    )
    assert (ethnic["01"], ethnic["15"], ethnic["56"], ethnic["98"]) == (
        "汉族",
        "土家族",
        "基诺族",
        "外国血统中国籍人士",
    )


def test_seeded_elements_are_complete_standards_of_the_city_bureau(seeded):
    bureau = Organization.objects.get(name=demo.BUREAU)
    elements = list(DataElement.objects.filter(identifier__regex=r"^DE[0-9]{5}$"))
    assert len(elements) >= 30
    for e in elements:
        assert (e.version, e.status, e.submitted_by, e.approved_at) == (
            1,
            DataElement.Status.STANDARD,
            bureau,
            demo.APPROVED,
        ), e
        assert e.english_name and e.pinyin and e.definition and e.object_class and e.property
        assert re.fullmatch(r"[a-z ]+", e.pinyin), e.pinyin
        assert e.history.get().history_user.username == "demo_city_reviewer"
        compile_validator(e)  # every format, pattern and code list compiles
    assert seeded["性别代码"].code_list.identifier == demo.SEX
    assert seeded["行政区划代码"].code_list.identifier == demo.DIVISIONS
    assert seeded["公民身份号码"].checksum == "cn_ric"
    assert seeded["统一社会信用代码"].checksum == "cn_uscc"


@pytest.mark.parametrize(
    ("name", "valid", "invalid"),
    [
        ("公民身份号码", ["360426199101010071"], ["360426199101010072", "36042619910101007"]),
        (
            "统一社会信用代码",
            [demo_credit_code("1", "1", "420100", 10_000_001)],
            ["91110000600037341M"],
        ),
        ("性别代码", ["0", "1", "2", "9"], ["3", "男"]),
        ("民族代码", ["01", "56", "97"], ["57", "1"]),
        ("婚姻状况代码", ["10", "21", "90"], ["11", "50"]),
        ("行政区划代码", ["420102", "429021", "420100"], ["420101", "110101", "42010"]),
        ("出生日期", ["19900307", "20000229"], ["1990-03-07", "19900230"]),
        ("邮政编码", ["430014"], ["43001", "43001X"]),
        ("联系电话", ["027-85123456", "13912345678", "12345"], ["phone", "139-1234-5678x"]),
        ("移动电话号码", ["13912345678"], ["12912345678", "1391234567"]),
        ("电子邮箱", ["zhang.wei@wuhan.gov.cn"], ["zhang.wei@", "@wuhan.gov.cn"]),
        ("车牌号码", ["鄂A12345", "鄂AD12345"], ["鄂a12345", "A12345", "鄂A1234"]),
        ("金额", ["0.01", "1234567890123456.78"], ["1.001", "12345678901234567.00"]),
        ("经度", ["114.305393"], ["114.3053931", "1140.305393"]),
        ("更新时间", ["2024-05-01T08:30:00"], ["2024-05-01 08:30:00"]),
        ("营业时间", ["09:00:00"], ["9:00"]),
        ("网址", ["https://www.wuhan.gov.cn/"], ["www.wuhan.gov.cn"]),
    ],
)
def test_seeded_elements_check_real_values(seeded, name, valid, invalid):
    element = seeded[name]
    with translation.override("en"):
        for value in valid:
            assert validate_value(element, value) is None, (name, value)
        for value in invalid:
            assert validate_value(element, value), (name, value)


def test_seed_demo_twice_changes_nothing(db):
    run_seed_demo_standards()
    assert DataElement.objects.filter(identifier__regex=r"^DE[0-9]{5}$").count() >= 30
    counts = (
        DataElement.objects.count(),
        DataElement.history.count(),
        CodeList.objects.count(),
        CodeValue.objects.count(),
    )
    run_seed_demo_standards()
    assert (
        DataElement.objects.count(),
        DataElement.history.count(),
        CodeList.objects.count(),
        CodeValue.objects.count(),
    ) == counts


def test_items_are_bound_by_name_or_synonym_after_the_catalog(seeded):
    ensure_catalog_base_data()
    reviewer = cf.make_city_bureau().reviewer
    items = [
        {"name": "统一社会信用代码", "english_name": "tyshxydm", "data_type": "C", "length": 18, "is_key": True},
        {"name": "身份证号", "english_name": "sfzh", "data_type": "C", "length": 18},
        {"name": "内部备注", "english_name": "bz", "data_type": "C", "length": 200},
    ]  # fmt: skip
    one, two = cf.make_agency(), cf.make_agency()
    first = cf.make_published(one, reviewer, items=items)
    second = cf.make_published(two, reviewer, items=items)
    custom = seeded["机构名称"]
    DataItem.objects.filter(version=second, name="身份证号").update(element=custom)

    assert demo.bind_demo_items() == 3
    assert demo.bind_demo_items() == 0  # idempotent

    def bound(version):
        return dict(version.items.values_list("name", "element__name"))

    assert bound(first) == {
        "统一社会信用代码": "统一社会信用代码",
        "身份证号": "公民身份号码",
        "内部备注": None,
    }
    assert bound(second) == {
        "统一社会信用代码": "统一社会信用代码",
        "身份证号": "机构名称",
        "内部备注": None,
    }
    providers = set(
        seeded["统一社会信用代码"].items.values_list("version__resource__provider", flat=True)
    )
    assert providers == {one.org.pk, two.org.pk}


def test_the_seeders_run_around_the_catalog():
    from django.utils.module_loading import autodiscover_modules

    from wuhan_pdr.kernel.demo import seeders

    autodiscover_modules("demo")  # as seed_demo does
    order = {s.name: s.order for s in seeders()}
    assert order["accounts"] < order["standards"] < order["catalog"] < order["standards_binding"]
