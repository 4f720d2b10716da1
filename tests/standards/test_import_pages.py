"""The browser pages for Excel/CSV import (city data bureau only) and export (everyone) of
code lists and data elements."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from catalog.models import CodeList, CodeValue, DataElement

from . import factories as f
from .conftest import make_element
from .factories import _catalog_base_data, client, day  # noqa: F401 (autouse fixture)

pytestmark = pytest.mark.django_db

CODE_LIST_IMPORT = "/standards/code-lists/import/"
ELEMENTS_IMPORT = "/standards/import/"


@pytest.fixture
def city(db) -> f.Bureau:
    return f.make_city_bureau()


@pytest.fixture
def agency(db) -> f.Agency:
    return f.make_agency()


def csv_file(text: str, name: str = "codes.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def workbook_bytes(response) -> bytes:
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    return b"".join(response.streaming_content)


def test_a_city_reviewer_imports_a_new_code_list_from_csv(city):
    c = client(city.reviewer)
    assert c.get(CODE_LIST_IMPORT).status_code == 200
    response = c.post(
        CODE_LIST_IMPORT,
        {
            "code_list": "",
            "new_identifier": "TEST-COLOR",
            "new_name": "颜色代码",
            "new_source": "测试标准",
            "file": csv_file("代码,名称\n1,红色\n2,绿色\n3,蓝色\n"),
            "effective_date": "2024-01-01",
        },
        follow=True,
    )
    code_list = CodeList.objects.get(identifier="TEST-COLOR")
    assert response.redirect_chain[-1][0] == f"/standards/code-lists/{code_list.pk}/"
    assert (code_list.name, code_list.source, code_list.owner) == ("颜色代码", "测试标准", city.org)
    values = dict(CodeValue.objects.filter(code_list=code_list).values_list("code", "name"))
    assert values == {"1": "红色", "2": "绿色", "3": "蓝色"}
    page = response.content.decode()
    assert "3 added, 0 closed, 0 changed, 0 unchanged" in page
    assert "红色" in page

    # Again into the existing list, with one code gone and one new.
    response = c.post(
        CODE_LIST_IMPORT,
        {
            "code_list": "TEST-COLOR",
            "file": csv_file("code,name\n1,红色\n2,绿色\n4,黑色\n"),
            "effective_date": "2024-06-01",
        },
        follow=True,
    )
    assert "1 added, 1 closed, 0 changed, 2 unchanged" in response.content.decode()
    assert CodeValue.objects.get(code_list=code_list, code="3").valid_to == day("2024-05-31")


def test_bad_rows_are_all_listed_and_nothing_is_imported(city):
    response = client(city.reviewer).post(
        CODE_LIST_IMPORT,
        {
            "new_identifier": "TEST-BAD",
            "new_name": "坏代码表",
            "file": csv_file("代码,名称\n1,红色\n1,又是红色\n2,\n"),
            "effective_date": "2024-01-01",
        },
    )
    assert response.status_code == 200
    errors = response.context["row_errors"]
    assert {e.row for e in errors} == {3, 4}
    by_row = {e.row: e for e in errors}
    assert by_row[3].column == "代码" and by_row[4].column == "名称"
    page = response.content.decode()
    assert "Problems found in the file" in page
    assert by_row[3].message in page and by_row[4].message in page
    assert not CodeList.objects.filter(identifier="TEST-BAD").exists()
    assert not CodeValue.objects.filter(name="红色").exists()


def test_a_file_that_is_not_a_workbook_is_a_form_error(city):
    code_list = f.make_code_list("TEST-SEX")
    before = list(CodeValue.objects.filter(code_list=code_list).values_list("pk", flat=True))
    response = client(city.reviewer).post(
        CODE_LIST_IMPORT,
        {
            "code_list": "TEST-SEX",
            "file": SimpleUploadedFile("codes.xlsx", b"this is plain text, not a workbook"),
            "effective_date": "2024-01-01",
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert any("not an Excel workbook" in e for e in form.non_field_errors())
    assert response.context["row_errors"] == []
    assert "not an Excel workbook" in response.content.decode()
    after = list(CodeValue.objects.filter(code_list=code_list).values_list("pk", flat=True))
    assert after == before


def test_a_damaged_zip_named_xlsx_is_a_form_error_too(city):
    f.make_code_list("TEST-SEX")
    response = client(city.reviewer).post(
        CODE_LIST_IMPORT,
        {
            "code_list": "TEST-SEX",
            "file": SimpleUploadedFile("codes.xlsx", b"PK\x03\x04" + b"\x00" * 200),
            "effective_date": "2024-01-01",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors


def test_a_new_list_needs_an_identifier_and_a_name(city):
    response = client(city.reviewer).post(
        CODE_LIST_IMPORT,
        {"file": csv_file("代码,名称\n1,红色\n"), "effective_date": "2024-01-01"},
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"new_identifier", "new_name"}
    assert not CodeValue.objects.filter(name="红色").exists()


@pytest.mark.parametrize("path", [CODE_LIST_IMPORT, ELEMENTS_IMPORT])
def test_only_the_city_reviewer_reaches_the_import_pages(path, agency, city):
    for user in (agency.staff, agency.admin):
        assert client(user).get(path).status_code == 404
        assert client(user).post(path, {"file": csv_file("a,b\n")}).status_code == 404
    anonymous = client().get(path)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login")
    assert client(city.reviewer).get(path).status_code == 200


def test_import_links_only_for_city_reviewers_export_links_for_everyone(agency, city):
    sex = f.make_code_list("TEST-SEX")
    for path in ("/standards/", "/standards/code-lists/", f"/standards/code-lists/{sex.pk}/"):
        for user, can_import in ((None, False), (agency.staff, False), (city.reviewer, True)):
            page = client(user).get(path).content.decode()
            assert "Export to Excel" in page
            assert ("/import/" in page) is can_import, (path, user)


def test_code_list_export_opens_and_keeps_formula_like_names_as_text():
    code_list = f.make_code_list(
        "TEST-EXP",
        values=[
            ("1", '=HYPERLINK("http://x")', None, None),
            ("2", "旧值", day("2000-01-01"), day("2010-12-31")),
            ("3", "现值", day("2011-01-01"), None),
        ],
    )
    url = f"/standards/code-lists/{code_list.pk}/export.xlsx"
    data = workbook_bytes(client().get(url))
    ws = load_workbook(io.BytesIO(data)).active
    rows = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=2) for r in range(2, 5)}
    assert set(rows) == {"1", "2", "3"}  # no date: every value
    assert (rows["1"].value, rows["1"].data_type) == ('=HYPERLINK("http://x")', "s")

    data = workbook_bytes(client().get(url, {"at": "2005-06-01"}))
    ws = load_workbook(io.BytesIO(data)).active
    assert [ws.cell(row=r, column=1).value for r in range(2, ws.max_row + 1)] == ["1", "2"]
    assert client().get("/standards/code-lists/NOPE/export.xlsx").status_code == 404


def test_elements_export_follows_the_list_filters(agency, city):
    make_element(name="=1+1 公式样名称", english_name="formula_like")
    make_element(name="其他数据元", english_name="other_one")
    data = workbook_bytes(client().get("/standards/export.xlsx", {"q": "formula_like"}))
    ws = load_workbook(io.BytesIO(data)).active
    assert ws.max_row == 2
    name = ws.cell(row=2, column=4)
    assert (name.value, name.data_type) == ("=1+1 公式样名称", "s")
    data = workbook_bytes(client().get("/standards/export.xlsx"))
    assert load_workbook(io.BytesIO(data)).active.max_row == 3


def test_elements_round_trip_through_the_pages(agency, city):
    originals = [
        make_element(name="往返姓名", english_name="rt_name"),
        make_element(name="@往返代码", english_name="rt_code"),
    ]
    data = workbook_bytes(client().get("/standards/export.xlsx"))
    c = client(city.reviewer)

    # As exported: nothing new.
    upload = SimpleUploadedFile("elements.xlsx", data)
    response = c.post(ELEMENTS_IMPORT, {"file": upload}, follow=True)
    assert response.redirect_chain[-1][0] == "/standards/"
    assert "0 data elements added, 2 unchanged" in response.content.decode()

    # Under new identifiers: two new elements, equal field by field.
    wb = load_workbook(io.BytesIO(data))
    ws = wb.active
    for row in range(2, ws.max_row + 1):
        ws.cell(row=row, column=1).value = "RX" + ws.cell(row=row, column=1).value
    buf = io.BytesIO()
    wb.save(buf)
    upload = SimpleUploadedFile("elements.xlsx", buf.getvalue())
    response = c.post(ELEMENTS_IMPORT, {"file": upload}, follow=True)
    assert "2 data elements added, 0 unchanged" in response.content.decode()
    for original in originals:
        copy = DataElement.objects.get(identifier="RX" + original.identifier)
        assert (copy.name, copy.english_name, copy.format) == (
            original.name,
            original.english_name,
            original.format,
        )


def test_a_bad_elements_workbook_lists_its_rows(city):
    text = "中文名称,定义,数据类型,数据格式\n,无名称,C,an..10\n好名称,,C,an..10\n"
    response = client(city.reviewer).post(ELEMENTS_IMPORT, {"file": csv_file(text, "elements.csv")})
    assert response.status_code == 200
    assert {e.row for e in response.context["row_errors"]} == {2, 3}
    assert not DataElement.objects.filter(name="好名称").exists()
