"""The validation service (catalog/standards/validation.py): every format rule with valid and
invalid examples at their boundaries, code-list membership at a date, ID-number and
credit-code checksums, patterns, refusals of what cannot be compiled, and the bulk path
agreeing with the one-value path."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation
from stdnum.cn import ric, uscc

from catalog.models import DataElement
from catalog.standards import validation
from catalog.standards.importers import Table, code_list_import
from catalog.standards.validation import (
    compile_validator,
    describe_format,
    format_is_valid,
    parse_format,
    pattern_is_valid,
    validate_value,
    validate_values,
)
from wuhan_pdr.accounts.demo import demo_credit_code
from wuhan_pdr.kernel.errors import DomainError

from .conftest import make_code_list, make_element


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def unsaved(fmt: str, **fields) -> DataElement:
    """An element that is not saved: validators compile from its fields alone."""
    return DataElement(
        identifier="X", name="x", definition="x", data_type="C", format=fmt, **fields
    )


def check(fmt: str, value, **fields):
    return compile_validator(unsaved(fmt, **fields))(value)


def with_check_digit(body17: str) -> str:
    """A citizen ID number: 17 characters and the GB 11643 check digit python-stdnum computes."""
    return body17 + ric.calc_check_digit(body17 + "0")


WUHAN_ID = with_check_digit("42010219900307123")  # 江岸区, born 1990-03-07
STDNUM_ID = "360426199101010071"  # python-stdnum's own example
STDNUM_USCC = "91110000600037341L"  # python-stdnum's own example


# --- the format grammar -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "kind", "low", "high", "scale"),
    [
        ("c..50", "c", 0, 50, None),
        ("c10", "c", 10, 10, None),
        ("c2..50", "c", 2, 50, None),
        ("C..50", "c", 0, 50, None),
        ("n8", "n", 8, 8, None),
        ("n..12", "n", 0, 12, None),
        ("n..12,2", "n", 0, 12, 2),
        ("an..18", "an", 0, 18, None),
        ("an18", "an", 18, 18, None),
        ("a..20", "a", 0, 20, None),
        (" c..50 ", "c", 0, 50, None),
    ],
)
def test_length_formats_parse(fmt, kind, low, high, scale):
    spec = parse_format(fmt)
    assert (spec.kind, spec.min_length, spec.max_length, spec.scale) == (kind, low, high, scale)
    assert format_is_valid(fmt)


@pytest.mark.parametrize(
    "fmt", ["YYYY-MM-DD", "YYYYMMDD", "YYYY-MM-DDThh:mm:ss", "hh:mm:ss", "YYYY", "YYYYMM"]
)
def test_temporal_formats_parse(fmt):
    assert parse_format(fmt).kind == "temporal"
    assert format_is_valid(fmt)


@pytest.mark.parametrize(
    "fmt",
    [
        "",
        "x..5",
        "c",
        "c..",
        "c..0",
        "c0",
        "c5..3",
        "n..5,6",
        "a..5,2",
        "c..10,2",
        "n 8",
        "n-8",
        "YYYY/MM/DD",
        "yyyy-mm-dd",
        "DD.MM.YYYY",
        "c..999999",
        "varchar(50)",
    ],
)
def test_unknown_formats_are_refused_naming_the_format(fmt):
    assert not format_is_valid(fmt)
    with pytest.raises(DomainError) as refused:
        compile_validator(unsaved(fmt))
    assert refused.value.field == "format"
    assert f"“{fmt}”" in str(refused.value)


def test_describe_format_for_pages():
    assert describe_format("c..50") == "at most 50 characters"
    assert describe_format("n6") == "exactly 6 digits"
    assert describe_format("an..18") == "at most 18 letters or digits"
    assert describe_format("n..12,2") == (
        "a number of at most 12 digits, at most 2 after the decimal point"
    )
    assert describe_format("YYYYMMDD") == "a date or time written as YYYYMMDD"


# --- each format, valid and invalid, at its boundaries -------------------------------------

FORMAT_CASES = {
    "c10": (
        ["0123456789", "武汉市江岸区沿江大道", "a b c d e ", "😀" * 10],
        ["012345678", "01234567890", "武汉市江岸区沿江大道1"],
    ),
    "c..50": (["x", "汉" * 50, "a" * 50, "😀" * 50], ["汉" * 51, "a" * 51]),
    "c2..5": (["ab", "武汉", "abcde", "江岸区沿江"], ["a", "武", "abcdef", "江岸区沿江大"]),
    "n8": (
        ["20240101", "00000000"],
        [
            "2024010",
            "202401011",
            "2024-101",
            "２０２４０１０１",
            "٢٠٢٤٠١٠١",
            "1234567²",
            "-1234567",
            "1234567a",
        ],
    ),
    "n..12": (["1", "0", "123456789012"], ["1234567890123", "1.5", " 12", "12 ", "+12", "一二"]),
    "n..12,2": (
        ["0", "12", "12.3", "12.34", "123456789012", "1234567890.12", "-5.25", "007.50"],
        [
            "12.345",
            "1234567890123",
            "12345678901.12",
            ".5",
            "5.",
            "1e5",
            "1,000.00",
            "--1",
            "1.2.3",
            "１２.３",
        ],
    ),
    "an..18": (
        ["ABC123", "abc", "A" * 18, "0" * 18],
        ["A" * 19, "AB-12", "AB 12", "汉字", "ａｂ", "ÄB"],
    ),
    "an18": (["91110000600037341L"], ["91110000600037341", "91110000600037341LL"]),
    "a..20": (["Wuhan", "a" * 20], ["Wuhan1", "武汉", "a" * 21, "Wu han", "Ω"]),
    "YYYY-MM-DD": (
        ["2024-02-29", "2023-12-31", "0001-01-01"],
        [
            "2023-02-29",
            "2024-04-31",
            "2024-4-1",
            "20240101",
            "2024-13-01",
            "0000-01-01",
            "2024-01-01 ",
            "2024/01/01",
        ],
    ),
    "YYYYMMDD": (
        ["20240229", "19491001"],
        ["20230229", "2024-02-29", "20241301", "2024011", "20240100"],
    ),
    "YYYY-MM-DDThh:mm:ss": (
        ["2024-01-01T00:00:00", "2024-02-29T23:59:59"],
        [
            "2024-01-01 00:00:00",
            "2024-01-01T24:00:00",
            "2024-01-01T12:60:00",
            "2023-02-29T10:00:00",
            "2024-01-01T12:00",
        ],
    ),
    "hh:mm:ss": (
        ["00:00:00", "23:59:59"],
        ["24:00:00", "7:00:00", "12:00:60", "12:00", "12:60:00"],
    ),
    "YYYY": (["2024"], ["24", "0000", "２０２４"]),
}


@pytest.mark.parametrize("fmt", list(FORMAT_CASES))
def test_format_accepts_valid_and_refuses_invalid_values(fmt):
    good, bad = FORMAT_CASES[fmt]
    validator = compile_validator(unsaved(fmt))
    for value in good:
        assert validator(value) is None, (fmt, value)
    for value in bad:
        assert validator(value), (fmt, value)


@pytest.mark.parametrize("fmt", list(FORMAT_CASES))
def test_bulk_path_agrees_with_one_by_one(fmt):
    """validate_values has fast paths (sets, lengths, one regex over the joined values): they
    must find exactly what the one-value validator finds, values with newlines included."""
    good, bad = FORMAT_CASES[fmt]
    values = [*good, *bad, "", None, "12\n34", "2024-01-01\n", *good]
    validator = compile_validator(unsaved(fmt))
    expected = [(i, validator(v)) for i, v in enumerate(values) if validator(v)]
    assert validate_values(unsaved(fmt), values) == expected
    assert validate_values(unsaved(fmt), iter(values)) == expected  # any iterable
    assert {i for i, _ in expected} >= {len(good) + i for i in range(len(bad))}


def test_characters_are_counted_not_bytes():
    name = "武汉市江岸区沿江大道一百八十八号" * 3  # 48 characters, 144 bytes in UTF-8
    assert len(name.encode()) > 50
    assert check("c..50", name) is None
    assert check("c..50", name + "楼上") is None
    assert check("c..50", name + "楼上楼") == "Must be at most 50 characters."


def test_messages_say_what_the_format_wants():
    assert check("n6", "4201") == "Must be exactly 6 digits."
    assert check("c..5", "abcdef") == "Must be at most 5 characters."
    assert check("an..18", "a-b") == "Must be at most 18 letters or digits."
    assert check("YYYYMMDD", "20230229") == "Must be a date or time written as YYYYMMDD."


def test_messages_follow_the_active_language():
    validator = compile_validator(unsaved("n6"))
    english = validator("x")
    with translation.override("zh-hans"):
        chinese = validator("x")
    assert english == "Must be exactly 6 digits."
    assert isinstance(chinese, str) and chinese


@pytest.mark.parametrize("fmt", ["c10", "n8", "n..12,2", "an18", "YYYYMMDD", "hh:mm:ss"])
def test_an_empty_value_is_valid_nullability_is_the_items_business(fmt):
    assert check(fmt, "") is None
    assert check(fmt, None) is None
    assert validate_values(unsaved(fmt), ["", None, ""]) == []


def test_values_are_checked_as_given_without_trimming():
    assert check("n6", "420102") is None
    assert check("n6", " 420102")
    assert check("n6", "420102 ")
    assert check("n6", 420102) is None  # a number is checked as its text


# --- checksums ----------------------------------------------------------------------------


@pytest.mark.parametrize("number", [STDNUM_ID, WUHAN_ID, with_check_digit("42010620000229002")])
def test_valid_citizen_id_numbers(number):
    assert ric.is_valid(number)
    assert check("an18", number, checksum="cn_ric") is None


def test_citizen_id_number_with_a_wrong_check_digit():
    wrong = WUHAN_ID[:-1] + ("0" if WUHAN_ID[-1] != "0" else "1")
    assert check("an18", wrong, checksum="cn_ric") == (
        "The check digit of this citizen ID number is wrong."
    )
    assert check("an18", STDNUM_ID[:-1] + "2", checksum="cn_ric")


def test_citizen_id_number_check_x_must_be_a_capital():
    number = next(
        n for n in (with_check_digit(f"42010219900307{k:03d}") for k in range(1000)) if n[-1] == "X"
    )
    assert check("an18", number, checksum="cn_ric") is None
    assert check("an18", number.lower(), checksum="cn_ric") == (
        "Write the ID number without spaces, with a capital X."
    )


def test_citizen_id_number_with_an_impossible_birth_date_or_region():
    feb30 = with_check_digit("42010219900230123")
    assert check("an18", feb30, checksum="cn_ric") == (
        "This citizen ID number has no valid birth date or region code."
    )
    nowhere = with_check_digit("00000019900307123")
    assert check("an18", nowhere, checksum="cn_ric") == (
        "This citizen ID number has no valid birth date or region code."
    )


def test_citizen_id_number_is_checked_for_format_first():
    assert check("an18", WUHAN_ID[:6] + " " + WUHAN_ID[6:], checksum="cn_ric") == (
        "Must be exactly 18 letters or digits."
    )
    assert check("an18", WUHAN_ID[:-1], checksum="cn_ric")


@pytest.mark.parametrize(
    "code",
    [
        STDNUM_USCC,
        demo_credit_code("1", "1", "420100", 10_000_001),
        demo_credit_code("9", "1", "420111", 12_345_678),
    ],
)
def test_valid_unified_social_credit_codes(code):
    assert uscc.is_valid(code)
    assert check("an18", code, checksum="cn_uscc") is None


def test_credit_code_with_a_wrong_check_character():
    assert check("an18", "91110000600037341M", checksum="cn_uscc") == (
        "The check character of this unified social credit code is wrong."
    )


def test_credit_code_in_lower_case_is_refused():
    assert check("an18", STDNUM_USCC.lower(), checksum="cn_uscc") == (
        "Write the credit code without spaces, in capital letters."
    )


def test_bulk_checksums_agree_with_one_by_one():
    element = unsaved("an18", checksum="cn_ric")
    values = [WUHAN_ID, WUHAN_ID[:-1] + "0", "", STDNUM_ID, "abc"]
    found = validate_values(element, values)
    assert [i for i, _ in found] == [i for i, v in enumerate(values) if validate_value(element, v)]


def test_unknown_checksum_rule_is_refused():
    with pytest.raises(DomainError, match="checksum"):
        compile_validator(unsaved("an18", checksum="luhn"))


# --- patterns -----------------------------------------------------------------------------

EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"


def test_pattern_domain_must_match_the_whole_value():
    element = unsaved("c..100", domain_kind="pattern", pattern=EMAIL)
    assert validate_value(element, "zhang.wei@wuhan.gov.cn") is None
    assert validate_value(element, "zhang.wei@wuhan") == (
        "Does not match the pattern of this data element."
    )
    assert validate_value(element, "mailto:zhang.wei@wuhan.gov.cn")  # no partial match
    assert validate_value(element, "zhang.wei@wuhan.gov.cn\n")
    digits = unsaved("c..10", domain_kind="pattern", pattern="[0-9]{3}")
    assert validate_value(digits, "123") is None
    assert validate_value(digits, "1234")


def test_pattern_and_format_both_apply():
    element = unsaved("c..10", domain_kind="pattern", pattern="[a-z]+")
    assert validate_value(element, "abcdefghijk") == "Must be at most 10 characters."
    assert validate_value(element, "abc1") == "Does not match the pattern of this data element."
    assert validate_values(element, ["abc", "abcdefghijk", "ABC", ""]) == [
        (1, "Must be at most 10 characters."),
        (2, "Does not match the pattern of this data element."),
    ]


@pytest.mark.parametrize("pattern", ["[0-9", "(?P<x>a", "*a", "a{2,1}"])
def test_invalid_patterns_are_refused(pattern):
    assert not pattern_is_valid(pattern)
    with pytest.raises(DomainError) as refused:
        compile_validator(unsaved("c..50", domain_kind="pattern", pattern=pattern))
    assert refused.value.field == "pattern"


def test_pattern_domain_without_pattern_is_refused():
    with pytest.raises(DomainError) as refused:
        compile_validator(unsaved("c..50", domain_kind="pattern", pattern=""))
    assert refused.value.field == "pattern"


# --- code lists at a date -----------------------------------------------------------------


@pytest.fixture
def dated_list(db):
    return make_code_list(
        name="测试区划",
        values=[
            ("420102", "江岸区"),  # always
            ("420199", "已撤销区", None, dt.date(2023, 12, 31)),  # until the end of 2023
            ("420120", "新设区", dt.date(2024, 1, 1), None),  # from 2024
            ("420130", "临时区", dt.date(2024, 1, 1), dt.date(2024, 6, 30)),  # first half of 2024
        ],
    )


@pytest.mark.parametrize(
    ("at", "valid"),
    [
        (dt.date(2023, 6, 1), {"420102", "420199"}),
        (dt.date(2023, 12, 31), {"420102", "420199"}),
        (dt.date(2024, 1, 1), {"420102", "420120", "420130"}),
        (dt.date(2024, 6, 30), {"420102", "420120", "420130"}),
        (dt.date(2024, 7, 1), {"420102", "420120"}),
    ],
)
def test_code_list_membership_at_a_date(dated_list, at, valid):
    element = make_element(format="n6", code_list=dated_list)
    codes = ["420102", "420199", "420120", "420130", "420188"]
    for code in codes:
        assert (validate_value(element, code, at=at) is None) == (code in valid), (code, at)
    assert [codes[i] for i, _ in validate_values(element, codes, at=at)] == [
        c for c in codes if c not in valid
    ]


def test_code_list_message_names_the_list_and_the_date(dated_list):
    element = make_element(format="n6", code_list=dated_list)
    assert validate_value(element, "420199", at=dt.date(2024, 1, 1)) == (
        "“420199” is not a code of 测试区划 valid on 2024-01-01."
    )


def test_code_list_membership_defaults_to_today(dated_list, monkeypatch):
    element = make_element(format="n6", code_list=dated_list)
    monkeypatch.setattr(validation, "_today", lambda: dt.date(2024, 3, 1))
    assert validate_value(element, "420130") is None
    assert validate_value(element, "420199")


def test_the_format_applies_to_code_list_values_too(db):
    odd = make_code_list(values=[("420102", "江岸区"), ("ABC", "格式不符的代码")])
    element = make_element(format="n6", code_list=odd)
    assert validate_value(element, "ABC") == "Must be exactly 6 digits."
    assert validate_values(element, ["420102", "ABC", ""]) == [(1, "Must be exactly 6 digits.")]


def test_a_code_list_domain_without_a_list_is_refused(db):
    element = make_element(format="n6", domain_kind="code_list")
    with pytest.raises(DomainError) as refused:
        compile_validator(element)
    assert refused.value.field == "code_list"


def test_a_code_closed_by_a_reimport(reviewer):
    code_list = make_code_list(name="重新导入的代码表")
    element = make_element(format="n6", code_list=code_list)
    header = ["code", "name"]
    code_list_import(
        code_list=code_list,
        rows_source=Table.from_records(header, [("420102", "江岸区"), ("420103", "江汉区")]),
        effective_date=dt.date(2024, 1, 1),
        acting_user=reviewer,
    )
    june, july = dt.date(2024, 6, 30), dt.date(2024, 7, 1)
    assert validate_value(element, "420103", at=july) is None  # compiled and cached
    code_list_import(
        code_list=code_list,
        rows_source=Table.from_records(header, [("420102", "江岸区"), ("420104", "硚口区")]),
        effective_date=july,
        acting_user=reviewer,
    )
    assert validate_value(element, "420103", at=june) is None
    assert validate_value(element, "420103", at=july)  # closed on June 30th
    assert validate_value(element, "420104", at=june)
    assert validate_value(element, "420104", at=july) is None  # new from July 1st
    assert validate_value(element, "420102", at=july) is None
    assert validate_value(element, "420102", at=dt.date(2023, 12, 31))  # not before the first


# --- compiled once, cached, no query per value ---------------------------------------------


def test_compiled_once_per_element_and_date(dated_list, django_assert_num_queries):
    element = make_element(format="n6", code_list=dated_list)
    at = dt.date(2024, 1, 1)
    first = compile_validator(element, at=at)
    assert compile_validator(element, at=at) is first
    assert compile_validator(element, at=dt.date(2024, 1, 2)) is not first
    with django_assert_num_queries(0):
        for _ in range(500):
            validate_value(element, "420102", at=at)
        validate_values(element, ["420102"] * 10_000, at=at)


def test_an_edited_element_is_compiled_afresh(db):
    element = make_element(format="n6")
    assert validate_value(element, "1234567")
    element.format = "n..8"
    assert validate_value(element, "1234567") is None


def test_the_cache_stays_small(db):
    element = make_element(format="n6")
    for day in range(200):
        compile_validator(element, at=dt.date(2024, 1, 1) + dt.timedelta(days=day))
    assert len(validation._cache) <= validation._CACHE_SIZE


@pytest.mark.parametrize("fmt", ["n6", "c..6", "YYYYMMDD"])
def test_bulk_across_chunks(fmt):
    """Values are checked in chunks of 65,536: invalid ones at the edges of chunks, and a
    chunk holding a value with a newline, are all found at their own index."""
    good = {"n6": "420102", "c..6": "江岸区", "YYYYMMDD": "20240229"}[fmt]
    values = [good] * 150_000
    bad_at = [0, 65_535, 65_536, 65_537, 100_000, 131_071, 131_072, 149_999]
    for i in bad_at:
        values[i] = "4201020X"
    values[70_000] = "4201\n02"
    values[70_001] = ""
    found = validate_values(unsaved(fmt), values)
    assert [i for i, _ in found] == sorted([*bad_at, 70_000])
