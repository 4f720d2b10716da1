"""Resources with typed data for the evidence tests, loaded through the real services."""

from __future__ import annotations

from registration.evidence import services
from tests.aggregation.factories import items_people, make_channel
from tests.aggregation.test_views import load

HEADER = "编号,姓名,年龄,出生日期,金额,更新时间,比例,有效,备注\n"
# Keys whose order differs between "C" (bytes) and a linguistic collation.
ROWS = [
    (
        "a1",
        "张三",
        "30",
        "1990-01-02",
        "12.50",
        "2025-01-02 08:00:00",
        "0.1",
        "是",
        '含,逗号和"引号"',
    ),
    ("B2", "李四", "41", "1985-12-31", "0.00", "2025-06-30 23:59:59.5", "1e-7", "否", ""),
    ("Z3", "王五", "", "", "7", "2024-02-29 12:00:00", "3.141592653589793", "true", "plain"),
    ("_x", "欧阳", "19", "2001-07-04", "-3.25", "2025-01-01 00:00:00", "-2.5e+20", "", "末行"),
]


def typed_items() -> list[dict]:
    return [
        *items_people(),
        {"name": "比例", "english_name": "ratio", "data_type": "F"},
        {"name": "有效", "english_name": "active", "data_type": "L"},
        {"name": "备注", "english_name": "note", "data_type": "C", "length": 100},
    ]


def _csv_value(value: str) -> str:
    if any(ch in value for ch in ',"\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def typed_content(rows=ROWS) -> str:
    return HEADER + "".join(",".join(_csv_value(v) for v in row) + "\n" for row in rows)


def typed_channel(*, grade: str | None = None):
    """A published resource with every kind of column and its channel, not loaded yet."""
    return make_channel(items=typed_items(), grade=grade, name="存证通道")


def typed(*, grade: str | None = None, rows=ROWS):
    """A published resource with every kind of column, loaded with `rows` in this process
    (not for a test with a live worker, which would run the same batch at the same time)."""
    setup = typed_channel(grade=grade)
    batch = load(setup, typed_content(rows))
    assert batch.status == "succeeded", batch.errors if hasattr(batch, "errors") else batch
    return setup


def deposit(setup, kind: str = "resource_data", **kw):
    made = services.deposit_request(
        kind=kind,
        holder=setup.resource.provider,
        resource=setup.resource,
        acting_user=setup.agency.staff,
        **kw,
    )
    return services.deposit_make(deposit_id=made.pk)
