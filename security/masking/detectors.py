"""Detectors that suggest masking rules when a resource is filed (issue #13 item 5).

Four kinds of personal data are recognised: citizen ID numbers (GB 11643, with their check
digit: python-stdnum `cn.ric`), mobile numbers (11 digits starting 13-19, optionally +86),
e-mail addresses, and bank card numbers (12 to 19 digits passing the Luhn check). An item is
recognised by what it says of itself (its name, column name, its data element's name,
format and checksum rule) or, where the resource already has stored rows, by its values:
most of a sample must match. Each kind suggests a rule by name (`SUGGESTED_RULE`, rules
seeded by the migration); the filer accepts the suggestion or not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from stdnum import luhn
from stdnum.cn import ric

ID_NUMBER = "id_number"
MOBILE = "mobile"
EMAIL = "email"
BANK_CARD = "bank_card"

KIND_LABELS = {
    ID_NUMBER: _("citizen ID number"),
    MOBILE: _("mobile number"),
    EMAIL: _("e-mail address"),
    BANK_CARD: _("bank card number"),
}

SUGGESTED_RULE = {
    ID_NUMBER: "保留前6位和后4位",
    MOBILE: "保留前3位和后4位",
    EMAIL: "隐藏中间",
    BANK_CARD: "保留前6位和后4位",
}

# Words in an item's (or its element's) name or column name; Chinese names and the pinyin
# initials agencies use for column names.
NAME_WORDS = {
    ID_NUMBER: ("身份证", "身份号码", "公民身份", "sfz", "sfhm", "id_number", "idcard", "id_card"),
    MOBILE: ("手机", "移动电话", "联系电话", "sjhm", "lxdh", "mobile", "phone", "cellphone"),
    EMAIL: ("邮箱", "电子邮件", "电子信箱", "email", "e_mail", "dzyx", "mail"),
    BANK_CARD: ("银行卡", "银行账号", "银行帐号", "卡号", "bank_card", "yhkh", "yhzh", "card_no"),
}

_MOBILE = re.compile(r"^(?:\+?86[- ]?)?1[3-9][0-9]{9}$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24}$")
_DIGITS = re.compile(r"^[0-9]{12,19}$")

SHARE = 0.8  # of a sample's non-empty values that must match
MIN_VALUES = 3  # fewer non-empty values tell nothing


def kind_of_value(value: str) -> str | None:
    """The kind of one value, or None."""
    text = (value or "").strip().replace(" ", "")
    if not text:
        return None
    if len(text) in (15, 18) and ric.is_valid(text):
        return ID_NUMBER
    if _MOBILE.match(text):
        return MOBILE
    if _EMAIL.match(text):
        return EMAIL
    if _DIGITS.match(text) and luhn.is_valid(text):
        return BANK_CARD
    return None


def kind_of_values(values: Iterable) -> str | None:
    """The kind most of `values` are (at least `SHARE` of the non-empty ones), or None."""
    counts: dict[str | None, int] = {}
    total = 0
    for v in values:
        if v is None or not str(v).strip():
            continue
        total += 1
        k = kind_of_value(str(v))
        counts[k] = counts.get(k, 0) + 1
    if total < MIN_VALUES:
        return None
    best = max((k for k in counts if k), key=lambda k: counts[k], default=None)
    if best is not None and counts[best] >= SHARE * total:
        return best
    return None


def kind_of_name(*texts: str, checksum: str = "", fmt: str = "") -> str | None:
    """The kind an item's names (item, column, data element) say it is, or None. A data
    element checked as a citizen ID number (`checksum` "cn_ric") is one."""
    if checksum == "cn_ric":
        return ID_NUMBER
    words = " ".join(t for t in texts if t).casefold()
    if not words:
        return None
    for kind in (ID_NUMBER, BANK_CARD, EMAIL, MOBILE):
        if any(w in words for w in NAME_WORDS[kind]):
            return kind
    return None


@dataclass(frozen=True)
class Detection:
    kind: str
    from_values: bool  # seen in stored values (else from the names)

    @property
    def label(self):
        return KIND_LABELS[self.kind]

    @property
    def rule_name(self) -> str:
        return SUGGESTED_RULE[self.kind]


def detect(
    *names: str, checksum: str = "", fmt: str = "", values: Iterable | None = None
) -> Detection | None:
    """What an item is, from its stored values where there are enough, else its names."""
    if values is not None:
        kind = kind_of_values(values)
        if kind:
            return Detection(kind, True)
    kind = kind_of_name(*names, checksum=checksum, fmt=fmt)
    return Detection(kind, False) if kind else None
