"""A wide CSV of many rows for load tests and benchmarks: 12 columns of the common types."""

from __future__ import annotations

from pathlib import Path

ITEMS = [
    {"name": "编号", "english_name": "code", "data_type": "C", "length": 20, "is_key": True},
    {"name": "名称", "english_name": "title", "data_type": "C", "length": 100},
    {"name": "数量", "english_name": "quantity", "data_type": "I"},
    {"name": "日期", "english_name": "day", "data_type": "D"},
    {"name": "金额", "english_name": "amount", "data_type": "Y", "length": 18},
    {"name": "地址", "english_name": "address", "data_type": "C", "length": 200},
    {"name": "序号", "english_name": "seq", "data_type": "I"},
    {
        "name": "更新时间",
        "english_name": "updated_at",
        "data_type": "T",
        "is_update_flag": True,
    },
    {"name": "备注", "english_name": "note", "data_type": "M"},
    {"name": "比率", "english_name": "ratio", "data_type": "F"},
    {"name": "标志", "english_name": "flag", "data_type": "L"},
    {"name": "区划", "english_name": "area_code", "data_type": "C", "length": 6},
]
HEADER = ",".join(item["name"] for item in ITEMS)


def row(i: int, *, version: int = 0) -> str:
    return (
        f"K{i:09d},名称{i % 5000},{i % 1000},2024-{1 + i % 12:02d}-{1 + i % 28:02d},"
        f'{i % 100000}.{i % 100:02d},"武汉市江岸区{i % 97}号,某某街道",{i},'
        f"2025-01-{1 + version:02d} {i % 24:02d}:{i % 60:02d}:00,备注{version},"
        f"{(i % 997) / 997:.6f},{'true' if i % 2 else 'false'},4201{i % 17:02d}\n"
    )


def write_csv(path: Path, rows: int, *, start: int = 0, version: int = 0) -> Path:
    """Rows `start` .. `start + rows - 1`, written in blocks."""
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(HEADER + "\n")
        block: list[str] = []
        for i in range(start, start + rows):
            block.append(row(i, version=version))
            if len(block) == 10_000:
                f.write("".join(block))
                block.clear()
        f.write("".join(block))
    return path
