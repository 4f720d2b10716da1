"""The allowed values of the bulk filing workbook: what the dropdowns offer and what a cell
may say. A choice is accepted as its stored value (`conditional`), its Chinese label (as the
dropdown writes it) or its English label; a classification, grade or data element as its
code alone or as the dropdown writes it ("101 人口")."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import translation

from security.masking.seed import TEXT_TO_RULE
from security.models import Grade, MaskingRule

from ..datatypes import DataType
from ..models import (
    Classification,
    OpenType,
    Resource,
    ResourceFormat,
    ShareMethod,
    ShareType,
    UpdateCycle,
    UpdateMode,
)

CHOICES = {
    "format": ResourceFormat,
    "share_type": ShareType,
    "share_method": ShareMethod,
    "open_type": OpenType,
    "update_cycle": UpdateCycle,
    "update_mode": UpdateMode,
    "data_type": DataType,
}

# The Chinese words of the workbook's dropdowns: literal content of the workbook (like its
# headers), so the template does not change with the state of the translations. The
# translated labels (zh-hans and English) and the stored values are accepted as well.
WORKBOOK_LABELS = {
    "format": {
        "file": "电子文件",
        "spreadsheet": "电子表格",
        "database": "数据库表",
        "image": "图像",
        "stream": "流媒体",
        "self_describing": "自描述格式",
        "api": "服务接口",
    },
    "share_type": {"unconditional": "无条件共享", "conditional": "有条件共享", "none": "不予共享"},
    "share_method": {
        "platform": "通过共享平台",
        "api": "接口",
        "file": "文件下载",
        "media": "存储介质",
    },
    "open_type": {"unconditional": "无条件开放", "conditional": "有条件开放", "none": "不予开放"},
    "update_cycle": {
        "realtime": "实时",
        "daily": "每日",
        "weekly": "每周",
        "monthly": "每月",
        "quarterly": "每季度",
        "yearly": "每年",
        "irregular": "不定期",
    },
    "update_mode": {"incremental": "增量", "full": "全量"},
    "data_type": {
        "C": "C 字符型",
        "N": "N 数值型",
        "Y": "Y 货币型",
        "D": "D 日期型",
        "T": "T 日期时间型",
        "L": "L 逻辑型",
        "M": "M 备注型",
        "G": "G 通用型",
        "B": "B 双精度型",
        "I": "I 整型",
        "F": "F 浮点型",
    },
}

LIST_TITLES = {
    "classification": "资源分类",
    "theme": "主题分类",
    "format": "资源格式",
    "grade": "安全级别",
    "share_type": "共享类型",
    "share_method": "共享方式",
    "open_type": "开放类型",
    "update_cycle": "更新周期",
    "update_mode": "更新方式",
    "data_type": "数据类型",
    "bool": "是否",
    "element": "数据元",
    "masking_rule": "脱敏规则",
}


def _key(text: str) -> str:
    return " ".join(str(text).split()).casefold()


@dataclass
class Vocabulary:
    """Every list of allowed values, read once per workbook."""

    lists: dict[str, list[str]] = field(default_factory=dict)  # list name -> dropdown texts
    choices: dict[str, dict[str, str]] = field(default_factory=dict)  # field -> text -> value
    classifications: dict[str, Classification] = field(default_factory=dict)
    themes: dict[str, Classification] = field(default_factory=dict)
    grades: dict[str, Grade] = field(default_factory=dict)
    masking_rules: dict[str, MaskingRule] = field(default_factory=dict)
    elements: dict[str, int] = field(default_factory=dict)  # identifier -> pk
    highest_rank: int | None = None

    @classmethod
    def load(cls, *, with_elements: bool = True) -> Vocabulary:
        from ..models import DataElement

        v = cls()
        leaves = Classification.objects.filter(parent__isnull=False).order_by("code")
        for c in leaves:
            v.classifications[c.code] = c
            if c.tree == Classification.Tree.THEME:
                v.themes[c.code] = c
        v.lists["classification"] = [f"{c.code} {c.name}" for c in v.classifications.values()]
        v.lists["theme"] = [f"{c.code} {c.name}" for c in v.themes.values()]
        grades = list(Grade.objects.order_by("rank"))
        for g in grades:
            v.grades[g.code.casefold()] = g
            v.grades.setdefault(g.name.casefold(), g)
        v.lists["grade"] = [f"{g.code} {g.name}" for g in grades]
        v.highest_rank = grades[-1].rank if grades else None
        rules = list(MaskingRule.objects.order_by("name"))
        for r in rules:
            v.masking_rules[_key(r.name)] = r
        by_name = {r.name: r for r in rules}
        for text, name in TEXT_TO_RULE.items():  # the free texts of older workbooks
            if name in by_name:
                v.masking_rules.setdefault(_key(text), by_name[name])
        v.lists["masking_rule"] = [r.name for r in rules]
        for name, choices in CHOICES.items():
            words = WORKBOOK_LABELS[name]
            shown = [words[value] for value, _label in choices.choices]
            accepted: dict[str, str] = {_key(words[value]): value for value in words}
            with translation.override("zh-hans"):
                for value, label in choices.choices:
                    accepted.setdefault(_key(label), value)
            with translation.override("en"):
                for value, label in choices.choices:
                    accepted.setdefault(_key(label), value)
            for value, _label in choices.choices:
                accepted.setdefault(_key(value), value)
            v.choices[name] = accepted
            v.lists[name] = shown
        v.lists["bool"] = ["是", "否"]
        if with_elements:
            current = DataElement.objects.filter(status__in=["candidate", "standard"]).order_by(
                "identifier"
            )
            for identifier, pk, name in current.values_list("identifier", "pk", "name"):
                v.elements[identifier.casefold()] = pk
                v.lists.setdefault("element", []).append(f"{identifier} {name}")
        v.lists.setdefault("element", [])
        return v

    # --- reading a cell's text ----------------------------------------------------------

    def choice(self, name: str, text: str) -> str | None:
        found = self.choices[name].get(_key(text))
        if found is None and name == "data_type" and text.split():
            # "C" followed by any words, as long as the letter is a data type.
            letter = text.split()[0].upper()
            found = letter if letter in DataType.values else None
        return found

    def classification(self, text: str) -> Classification | None:
        return self.classifications.get(text.split()[0]) if text.split() else None

    def theme(self, text: str) -> Classification | None:
        return self.themes.get(text.split()[0]) if text.split() else None

    def grade(self, text: str) -> Grade | None:
        words = text.split()
        if not words:
            return None
        return self.grades.get(words[0].casefold()) or self.grades.get(_key(text))

    def masking_rule(self, text: str) -> MaskingRule | None:
        return self.masking_rules.get(_key(text))

    def element(self, text: str) -> int | None:
        words = text.split()
        return self.elements.get(words[0].casefold()) if words else None


def published_resources(codes: set[str]) -> dict[str, Resource]:
    """The published resources among `codes` (what the filing form's related codes accept)."""
    if not codes:
        return {}
    return {
        r.code: r for r in Resource.objects.filter(code__in=codes, published_version__isnull=False)
    }
