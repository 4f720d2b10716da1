"""Every masking method on crafted values: the SQL builder (security.masking.masked_select)
and its Python twin (mask_value) give the same text for the same stored value."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from psycopg import sql

from security.masking import (
    DISTRICT,
    HMAC,
    KEEP_ENDS,
    MIDDLE,
    MONTH,
    REPLACE,
    ROUND,
    YEAR,
    Mask,
    mask_expression,
    mask_value,
    masked_select,
)

pytestmark = pytest.mark.django_db

TEXTS = [
    None,
    "",
    "a",
    "ab",
    "abc",
    "张",
    "张三",
    "欧阳修文",
    "😀x😀",
    "420102199003071234",
    "13812345678",
    "x" * 5000,
    "  spaced  ",
    "2024-05-06",
    "2024-05",
    "2024",
    "20240506",
    "-12.5",
    "12.345",
    "1e5",
    "abc123",
    "湖北省武汉市洪山区珞喻路1037号",
    "武汉市江岸区沿江大道与江汉区交界",
    "北京市海淀区",
    "经济开发区江岸区某路",  # the first 区 ends no district: the regular expression decides
    "武汉市东西湖区金银湖",
    "西湖区",
    "区",
    "江岸区江汉区",
    "开发区洪山区与汉阳区",
    "东西湖",
    "'; DROP TABLE x; --",
    "１２３４",  # full-width digits are not [0-9]
]
DATES = [None, dt.date(2024, 5, 6), dt.date(1, 1, 1), dt.date(9999, 12, 31), dt.date(999, 2, 3)]
STAMPS = [
    None,
    dt.datetime(2024, 5, 6, 7, 8, 9),
    dt.datetime(2024, 5, 6, 7, 8, 9, 500000),
    dt.datetime(2024, 12, 31, 23, 59, 59, 123456),
]
NUMBERS = [
    None,
    Decimal("0"),
    Decimal("1234.56"),
    Decimal("-1234.56"),
    Decimal("-0.4"),
    Decimal("2.5"),
    Decimal("-2.5"),
    Decimal("0.0000001"),
    Decimal("123456789012345678.99"),
    Decimal("NaN"),
]
DOUBLES = [None, 0.0, 1.0, -2.5, 0.1, 1 / 3, 1e15, 1e16, 1.5e-5, 123456.789, -1e20]

MASKS = [
    Mask(REPLACE),
    Mask(REPLACE, replacement="已脱敏"),
    Mask(KEEP_ENDS),
    Mask(KEEP_ENDS, first=1, last=0),
    Mask(KEEP_ENDS, first=0, last=4),
    Mask(KEEP_ENDS, first=3, last=4, max_stars=4),
    Mask(MIDDLE),
    Mask(HMAC),
    Mask(YEAR),
    Mask(MONTH),
    Mask(DISTRICT),
    Mask(ROUND, digits=0),
    Mask(ROUND, digits=2),
    Mask(ROUND, digits=-2),
    Mask(ROUND, multiple=Decimal("500")),
    Mask(ROUND, multiple=Decimal("0.5")),
]


def _sql_masked(values, sql_type, mask):
    """Each of `values` stored in a column of `sql_type`, selected through the builder."""
    with connection.cursor() as cur:
        cur.execute(
            sql.SQL("CREATE TEMP TABLE t (i int, v {}) ON COMMIT DROP").format(sql.SQL(sql_type))
        )
        for i, v in enumerate(values):
            cur.execute("INSERT INTO t VALUES (%s, %s)", [i, v])

        class C:
            name = "v"
            type = sql_type

        cur.execute(
            sql.SQL("SELECT i, v, {} FROM t ORDER BY i").format(
                sql.SQL("{} AS m").format(
                    mask_expression(sql.Identifier("v"), mask, sql_type=sql_type)
                )
            )
        )
        rows = cur.fetchall()
        cur.execute(sql.SQL("SELECT {} FROM t ORDER BY i").format(masked_select([C], {"v": mask})))
        via_select = [r[0] for r in cur.fetchall()]
        cur.execute("DROP TABLE t")
    assert [r[2] for r in rows] == via_select
    return rows


@pytest.mark.parametrize(
    "mask", MASKS, ids=lambda m: f"{m.method}-{m.first}-{m.last}-{m.digits}-{m.multiple}"
)
@pytest.mark.parametrize(
    "sql_type,values",
    [
        ("text", TEXTS),
        ("varchar(20)", [v for v in TEXTS if v is None or len(v) <= 20]),
        ("date", DATES),
        ("timestamp", STAMPS),
        ("numeric", NUMBERS),
        ("numeric(18,2)", [v for v in NUMBERS if v is None or v.is_nan() or abs(v) < 10**15]),
        ("double precision", DOUBLES),
        ("boolean", [None, True, False]),
        ("integer", [None, 0, -7, 1234567]),
    ],
)
def test_sql_and_python_agree(mask, sql_type, values):
    rows = _sql_masked(values, sql_type, mask)
    assert len(rows) == len(values)
    for _i, stored, masked_in_sql in rows:
        assert mask_value(stored, mask) == masked_in_sql, (sql_type, stored)
        if stored is None:
            assert masked_in_sql is None
        assert masked_in_sql is None or isinstance(masked_in_sql, str)


@pytest.mark.parametrize("style", ["ISO, MDY", "SQL, DMY", "German", "Postgres, MDY"])
@pytest.mark.parametrize("sql_type", ["date", "timestamp"])
def test_year_and_month_of_a_date_are_to_char_in_every_date_style(style, sql_type):
    """The year and month of a date are cut from its ISO text where that is what to_char
    writes (AD 1-9999 in the ISO style) and are to_char's elsewhere: BC, five-digit years,
    infinity, any other DateStyle (whose text would tell the day)."""
    stored = [
        "2024-05-06",
        "0001-01-01",
        "9999-12-31",
        "0999-02-03",
        "0044-03-15 BC",
        "0001-12-31 BC",
        "10000-01-01",
        "12345-06-07",
        "infinity",
        "-infinity",
    ]
    masks = [Mask(YEAR), Mask(MONTH)]
    with connection.cursor() as cur:
        cur.execute(sql.SQL("SET LOCAL DateStyle = {}").format(sql.Literal(style)))
        cur.execute(
            sql.SQL("CREATE TEMP TABLE d (i int, v {}) ON COMMIT DROP").format(sql.SQL(sql_type))
        )
        for i, v in enumerate(stored):
            cur.execute(
                sql.SQL("INSERT INTO d VALUES (%s, {}::{})").format(
                    sql.Literal(v), sql.SQL(sql_type)
                ),
                [i],
            )
        v = sql.Identifier("v")
        cur.execute(
            sql.SQL(
                "SELECT {}, {}, to_char(v, 'YYYY'), to_char(v, 'YYYY-MM') FROM d ORDER BY i"
            ).format(*(mask_expression(v, m, sql_type=sql_type) for m in masks))
        )
        rows = cur.fetchall()
        cur.execute("DROP TABLE d")
    assert len(rows) == len(stored)
    for year, month, want_year, want_month in rows:
        assert (year, month) == (want_year, want_month)
