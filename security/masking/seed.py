"""The masking rules every installation starts with, and how the free-text rules of catalog
items written before rules were data map to them (migrations import this module; keep it
free of models)."""

# name, method, keep_first, keep_last, extra fields, description
RULES = [
    ("保留首尾", "keep_ends", 1, 1, {}, "保留首尾各一个字符,其余以星号代替(最多八个)。"),
    ("保留姓氏", "keep_ends", 1, 0, {}, "姓名只保留第一个字。"),
    ("保留前6位和后4位", "keep_ends", 6, 4, {}, "证件号码保留前六位和后四位。"),
    ("保留前3位和后4位", "keep_ends", 3, 4, {}, "电话号码保留前三位和后四位。"),
    ("隐藏中间", "middle", 1, 1, {}, "中间三分之一以星号代替。"),
    ("全部替换", "replace", 1, 1, {}, "整个值以“***”代替。"),
    ("哈希", "hmac", 1, 1, {}, "以密钥计算HMAC-SHA256,相同的值得到相同结果,可用于关联。"),
    ("保留年份", "year", 1, 1, {}, "日期只保留年份。"),
    ("保留年月", "month", 1, 1, {}, "日期只保留年月。"),
    ("保留至区县", "district", 1, 1, {}, "地址只保留所在区。"),
    ("取整到百", "round", 1, 1, {"digits": -2}, "数值四舍五入到百位。"),
]

# Free texts used before rules were data -> the rule that replaces them. A text not listed
# becomes a rule of its own that keeps first and last character (the masking it had), with
# the text kept in the rule's note.
TEXT_TO_RULE = {
    "保留首尾": "保留首尾",
    "首尾": "保留首尾",
    "保留姓氏": "保留姓氏",
    "保留姓": "保留姓氏",
    "保留前6位和后4位": "保留前6位和后4位",
    "保留前六位和后四位": "保留前6位和后4位",
    "保留前3位和后4位": "保留前3位和后4位",
    "保留前三位和后四位": "保留前3位和后4位",
    "中间打码": "隐藏中间",
    "隐藏中间": "隐藏中间",
    "全部隐藏": "全部替换",
    "全部替换": "全部替换",
    "遮蔽": "全部替换",
    "哈希": "哈希",
    "保留年份": "保留年份",
    "保留年月": "保留年月",
    "保留至区县": "保留至区县",
    "保留至区": "保留至区县",
    # The portal cannot tell streets or housing estates apart: the district is the nearest
    # coarser level it can keep (the old text stays in the item's rule note).
    "保留至街道": "保留至区县",
    "保留至小区": "保留至区县",
}


def seed_rules(MaskingRule) -> dict:
    """Create the default rules where missing; {name: rule}."""
    out = {}
    for name, method, first, last, extra, description in RULES:
        rule, _created = MaskingRule.objects.get_or_create(
            name=name,
            defaults=dict(
                method=method,
                keep_first=first,
                keep_last=last,
                description=description,
                **extra,
            ),
        )
        out[name] = rule
    return out


def rule_for_text(MaskingRule, text: str, rules: dict):
    """The rule for an old free-text rule (None for an empty one)."""
    text = (text or "").strip()
    if not text:
        return None
    if text in rules:
        return rules[text]
    mapped = TEXT_TO_RULE.get(text)
    if mapped is not None:
        return rules[mapped]
    name = text[:50]
    rule, _created = MaskingRule.objects.get_or_create(
        name=name,
        defaults=dict(
            method="keep_ends",
            keep_first=1,
            keep_last=1,
            note=f"Migrated from the free-text masking rule “{text}” (first and last character kept, as before).",
        ),
    )
    rules[text] = rule
    return rule
