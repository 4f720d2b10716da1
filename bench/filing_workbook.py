"""The data of the bulk filing benchmark: a valid workbook of `n` resources with `items_each`
items each (5,000 x 10 = 50,000 items by default), written with openpyxl's streaming writer
as the template's two data sheets. Deterministic: the same arguments give the same rows."""

from __future__ import annotations

import random
from pathlib import Path

from openpyxl import Workbook

from catalog.bulk.columns import ITEM_COLUMNS, ITEMS_SHEET, RESOURCE_COLUMNS, RESOURCES_SHEET

CLASSES = ["101 人口", "102 法人", "103 自然资源和空间地理", "104 电子证照", "105 社会信用"]
TYPES = [("C", 50), ("N", 12), ("D", None), ("I", None), ("C", 200)]


def generate(path: Path, *, n: int = 5000, items_each: int = 10, seed: int = 5) -> Path:
    rnd = random.Random(seed)
    wb = Workbook(write_only=True)
    res = wb.create_sheet(RESOURCES_SHEET)
    res.append([c.title for c in RESOURCE_COLUMNS])
    items = wb.create_sheet(ITEMS_SHEET)
    items.append([c.title for c in ITEM_COLUMNS])
    for i in range(1, n + 1):
        key = f"R{i}"
        incremental = i % 4 == 0
        row = {
            "key": key,
            "name": f"基准资源{i:05d}{rnd.choice(['登记信息', '许可信息', '统计数据', '名录'])}",
            "classification": CLASSES[i % len(CLASSES)],
            "summary": f"第{i}个基准测试资源的摘要,说明数据的内容、范围和用途。",
            "source_system": f"业务系统{i % 37}",
            "format": "数据库表",
            "themes": "201、202" if i % 3 == 0 else "",
            "grade": "L2 低敏感",
            "share_type": "有条件共享",
            "share_conditions": "用于政务服务和监管",
            "share_method": "通过共享平台",
            "share_legal_basis": None,
            "open_type": "不予开放",
            "open_conditions": None,
            "open_legal_basis": "涉及个人信息和商业秘密",
            "operation_eligible": "否",
            "update_cycle": "每日" if incremental else "每月",
            "update_mode": "增量" if incremental else "全量",
            "related": None,
        }
        res.append([row[c.key] for c in RESOURCE_COLUMNS])
        for j in range(1, items_each + 1):
            dtype, length = TYPES[j % len(TYPES)]
            if j == 3:  # the update flag every periodic resource carries (Art. 16)
                dtype, length = "T", None
            item = {
                "resource_key": key,
                "name": f"信息项{j:02d}",
                "english_name": f"col_{j:02d}",
                "data_type": dtype,
                "length": length,
                "is_key": "是" if j == 1 else "否",
                "is_update_flag": "是" if j == 3 else "否",
                "nullable": "否" if j == 1 else "是",
                "grade": None,
                "masking_rule": None,
                "description": f"第{j}个信息项的说明" if j % 2 else None,
                "element": None,
            }
            items.append([item[c.key] for c in ITEM_COLUMNS])
    wb.save(str(path))
    return path
