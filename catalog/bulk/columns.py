"""The columns of the bulk filing workbook, shared by the template, the reader and the check.

The workbook has two data sheets. `资源` holds one resource per row; its first column, 编号,
is a key the filer chooses (R1, 1, 户籍-01 ...: any text, unique within the file). `信息项`
holds one data item per row; its first column names the resource by that key, and the items
of a resource take their positions in the order of their rows. Headers are matched by name
(a trailing * marking a required column is ignored), so columns may be reordered.

Sheet names and headers are Chinese literal content of the workbook, like the instructions.
"""

from __future__ import annotations

from dataclasses import dataclass

RESOURCES_SHEET = "资源"
ITEMS_SHEET = "信息项"
VALUES_SHEET = "可选值"
HELP_SHEET = "填写说明"
ERRORS_SHEET = "错误清单"


@dataclass(frozen=True)
class Column:
    key: str  # the model field (or a pseudo field: key, resource_key, classification ...)
    header: str
    kind: str  # text, choice, bool, int, classification, themes, grade, masking_rule,
    # element, related, key
    required: bool = False
    values: str = ""  # the list on the 可选值 sheet feeding the dropdown
    width: int = 16
    note: str = ""

    @property
    def title(self) -> str:
        return f"{self.header}*" if self.required else self.header


RESOURCE_COLUMNS: tuple[Column, ...] = (
    Column("key", "编号", "key", True, width=10, note="本文件内唯一,信息项表用它指向本资源"),
    Column("name", "资源名称", "text", True, width=28),
    Column("classification", "资源分类", "classification", True, "classification", 22),
    Column("summary", "资源摘要", "text", width=36),
    Column("source_system", "来源信息系统", "text", width=20),
    Column("format", "资源格式", "choice", True, "format", 14),
    Column("themes", "主题分类", "themes", values="theme", width=18, note="多个用逗号或顿号分隔"),
    Column("grade", "安全级别", "grade", True, "grade", 14),
    Column("share_type", "共享类型", "choice", True, "share_type", 14),
    Column("share_conditions", "共享条件", "text", width=24),
    Column("share_method", "共享方式", "choice", True, "share_method", 16),
    Column("share_legal_basis", "不予共享依据", "text", width=24),
    Column("open_type", "开放类型", "choice", True, "open_type", 14),
    Column("open_conditions", "开放条件", "text", width=24),
    Column("open_legal_basis", "不予开放依据", "text", width=24),
    Column("operation_eligible", "可授权运营", "bool", values="bool", width=12),
    Column("update_cycle", "更新周期", "choice", True, "update_cycle", 12),
    Column("update_mode", "更新方式", "choice", True, "update_mode", 12),
    Column("related", "关联资源代码", "related", width=22, note="已发布资源的代码,多个用逗号分隔"),
)

ITEM_COLUMNS: tuple[Column, ...] = (
    Column("resource_key", "资源编号", "key", True, width=10, note="资源表中的编号"),
    Column("name", "信息项名称", "text", True, width=20),
    Column("english_name", "英文列名", "text", width=18),
    Column("data_type", "数据类型", "choice", True, "data_type", 16),
    Column("length", "长度", "int", width=8),
    Column("is_key", "主键", "bool", values="bool", width=8),
    Column("is_update_flag", "更新标识", "bool", values="bool", width=10),
    Column("nullable", "可为空", "bool", values="bool", width=10),
    Column("grade", "信息项分级", "grade", values="grade", width=14),
    Column("masking_rule", "脱敏规则", "masking_rule", values="masking_rule", width=16),
    Column("description", "说明", "text", width=28),
    Column("element", "数据元", "element", values="element", width=22),
)

SHEETS = {RESOURCES_SHEET: RESOURCE_COLUMNS, ITEMS_SHEET: ITEM_COLUMNS}

TRUE_WORDS = {"是", "y", "yes", "true", "1", "√", "✓", "t"}
FALSE_WORDS = {"否", "n", "no", "false", "0", "×", "f"}


def normalise_header(text) -> str:
    """A header as written, without spaces or the * of a required column."""
    if text is None:
        return ""
    return str(text).replace("\u3000", " ").strip().rstrip("*＊").strip()
