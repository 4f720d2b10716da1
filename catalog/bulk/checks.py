"""One check of every row, with the rules of the filing form.

Each cell is turned into the value the form would hold, with the form's own limits (the
models' lengths and choices, a classification from the form's list, themes of the theme tree,
related codes of published resources, a current data element, at most as many items as the
form takes); then each resource with its items goes through `catalog.rules.check_resource`,
the rules the filing form and the services apply. Every problem becomes a `CellIssue` naming
the sheet, the row, the column and the message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from ..forms import DataItemFormSet
from ..models import Classification, DataItem, Resource, ResourceVersion
from ..rules import check_resource
from .columns import FALSE_WORDS, ITEMS_SHEET, RESOURCES_SHEET, TRUE_WORDS, Column
from .reader import CellIssue, Formula, SheetRows, WorkbookRows, cell_is_date
from .vocabulary import Vocabulary, published_resources

MAX_ITEMS = DataItemFormSet.absolute_max
SEPARATORS = re.compile(r"[\s,，、;；]+")


class CellError(ValueError):
    pass


@dataclass
class ParsedItem:
    row: int
    fields: dict


@dataclass
class ParsedResource:
    row: int
    key: str
    fields: dict
    classification: Classification | None = None
    themes: list[Classification] = field(default_factory=list)
    related: list[Resource] = field(default_factory=list)
    items: list[ParsedItem] = field(default_factory=list)


@dataclass
class CheckResult:
    resources: list[ParsedResource]
    issues: list[CellIssue]

    @property
    def items_count(self) -> int:
        return sum(len(r.items) for r in self.resources)


def _max_length(model, name: str) -> int | None:
    return model._meta.get_field(name).max_length


def _text(value) -> str:
    if isinstance(value, Formula):
        raise CellError(
            _("This cell holds a formula (%(formula)s): enter the value itself.")
            % {"formula": str(value)[:40]}
        )
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if cell_is_date(value):
        shown = value.strftime("%Y-%m-%d") if hasattr(value, "strftime") else str(value)
        raise CellError(
            _("Excel stored this as a date (%(date)s): format the cell as text and enter it again.")
            % {"date": shown}
        )
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _bool(value, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).casefold()
    if not text:
        return default
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise CellError(_("Write 是 or 否, not “%(value)s”.") % {"value": text[:20]})


def _int(value) -> int | None:
    if isinstance(value, Formula):
        _text(value)
    if value is None:
        return None
    if cell_is_date(value):
        _text(value)  # a date in a number column: the same message
    if isinstance(value, bool):
        raise CellError(_("Enter a whole number."))
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise CellError(_("Enter a whole number."))
        number = int(value)
    else:
        text = _text(value)
        if not text:
            return None
        if not text.isdigit():
            raise CellError(_("Enter a whole number."))
        number = int(text)
    if number < 0:
        raise CellError(_("Ensure this value is greater than or equal to 0."))
    if number > 2_147_483_647:
        raise CellError(_("The number is too large."))
    return number


class _Checker:
    def __init__(self, vocabulary: Vocabulary):
        self.v = vocabulary
        self.issues: list[CellIssue] = []
        self.flagged: set[tuple[str, int, str]] = set()

    def issue(
        self, sheet: SheetRows, row: int, column: Column | None, message: str, *, rule=False
    ) -> None:
        if column is None:
            self.issues.append(CellIssue(sheet.name, row, "", "", message))
            return
        letter = sheet.letters.get(column.key, "")
        if rule and (sheet.name, row, letter) in self.flagged:
            return  # the cell itself is wrong: a rule about its value would only repeat it
        self.flagged.add((sheet.name, row, letter))
        self.issues.append(CellIssue(sheet.name, row, letter, column.header, message))

    def read_row(self, sheet: SheetRows, number: int, values: list, model) -> dict:
        """The row's cells as form values; problems become issues, bad cells None."""
        out: dict = {}
        for col, value in zip(sheet.columns, values, strict=True):
            try:
                out[col.key] = self.cell(col, value, model)
            except CellError as exc:
                self.issue(sheet, number, col, str(exc))
                out[col.key] = None
            else:
                if col.required and out[col.key] in (None, "", []):
                    self.issue(sheet, number, col, _("This field is required."))
        return out

    def cell(self, col: Column, value, model):
        kind = col.kind
        if kind == "bool":
            return _bool(value, default=col.key == "nullable")
        if kind == "int":
            return _int(value)
        text = _text(value)
        if kind in ("text", "key"):
            limit = _max_length(model, col.key) if kind == "text" else 100
            if limit and len(text) > limit:
                raise CellError(
                    _("Ensure this value has at most %(limit)d characters (it has %(n)d).")
                    % {"limit": limit, "n": len(text)}
                )
            return text
        if not text:
            return [] if kind in ("themes", "related") else None
        if kind == "choice":
            found = self.v.choice(col.values, text)
            if found is None:
                raise CellError(
                    _("“%(value)s” is not one of the allowed values: choose from the dropdown.")
                    % {"value": text[:40]}
                )
            return found
        if kind == "classification":
            found = self.v.classification(text)
            if found is None:
                raise CellError(
                    _("There is no classification %(code)s: choose from the dropdown.")
                    % {"code": text[:40]}
                )
            return found
        if kind == "grade":
            found = self.v.grade(text)
            if found is None:
                raise CellError(
                    _("There is no security grade %(code)s: choose from the dropdown.")
                    % {"code": text[:40]}
                )
            return found
        if kind == "masking_rule":
            found = self.v.masking_rule(text)
            if found is None:
                raise CellError(
                    _("There is no masking rule %(name)s: choose from the dropdown.")
                    % {"name": text[:40]}
                )
            return found
        if kind == "element":
            found = self.v.element(text)
            if found is None:
                raise CellError(
                    _("There is no current data element %(code)s.") % {"code": text[:40]}
                )
            return found
        if kind == "themes":
            themes, unknown = [], []
            for code in SEPARATORS.split(text):
                if not code:
                    continue
                theme = self.v.theme(code)
                (themes if theme else unknown).append(theme or code)
            if unknown:
                raise CellError(
                    _("There is no theme %(codes)s.") % {"codes": ", ".join(unknown[:5])}
                )
            return list(dict.fromkeys(themes))
        if kind == "related":
            return [c for c in SEPARATORS.split(text) if c]
        raise AssertionError(kind)


def check_workbook(
    rows: WorkbookRows,
    *,
    vocabulary: Vocabulary | None = None,
    progress: Callable[[float], None] | None = None,
) -> CheckResult:
    """Every problem of every row, and the resources as the import will write them."""
    v = vocabulary or Vocabulary.load()
    checker = _Checker(v)
    checker.issues.extend(rows.issues)
    res_sheet, item_sheet = rows.resources, rows.items
    res_cols = {c.key: c for c in res_sheet.columns}
    item_cols = {c.key: c for c in item_sheet.columns}

    resources: list[ParsedResource] = []
    by_key: dict[str, ParsedResource] = {}
    for number, values in res_sheet.rows:
        data = checker.read_row(res_sheet, number, values, ResourceVersion)
        key = data.pop("key") or ""
        parsed = ParsedResource(
            row=number,
            key=key,
            fields=data,
            classification=data.pop("classification"),
            themes=data.pop("themes") or [],
        )
        parsed.fields["related_codes"] = data.pop("related") or []
        if key:
            if key in by_key:
                checker.issue(
                    res_sheet,
                    number,
                    res_cols["key"],
                    _("The number %(key)s is used twice (also in row %(row)d).")
                    % {"key": key, "row": by_key[key].row},
                )
            else:
                by_key[key] = parsed
        resources.append(parsed)
    if progress:
        progress(0.2)

    for number, values in item_sheet.rows:
        data = checker.read_row(item_sheet, number, values, DataItem)
        key = data.pop("resource_key") or ""
        if not key:
            continue  # required: already reported
        owner = by_key.get(key)
        if owner is None:
            checker.issue(
                item_sheet,
                number,
                item_cols["resource_key"],
                _("No resource has the number %(key)s in the sheet %(sheet)s.")
                % {"key": key[:40], "sheet": RESOURCES_SHEET},
            )
            continue
        owner.items.append(ParsedItem(number, data))
    if progress:
        progress(0.6)

    codes = {c for r in resources for c in r.fields["related_codes"]}
    published = published_resources(codes)
    for r in resources:
        missing = [c for c in r.fields["related_codes"] if c not in published]
        if missing:
            checker.issue(
                res_sheet,
                r.row,
                res_cols["related"],
                _("No published resource has the code %(codes)s.")
                % {"codes": ", ".join(missing[:5])},
            )
        wanted = r.fields.pop("related_codes")
        r.related = list({published[c].pk: published[c] for c in wanted if c in published}.values())
        if len(r.items) > MAX_ITEMS:
            checker.issue(
                res_sheet,
                r.row,
                res_cols["key"],
                _("A resource has at most %(n)d data items; this one has %(count)d.")
                % {"n": MAX_ITEMS, "count": len(r.items)},
            )
        for violation in check_resource(
            r.fields,
            [i.fields for i in r.items],
            complete=False,
            highest_rank=v.highest_rank,
        ):
            if violation.item is None:
                col = res_cols.get(violation.field) or res_cols["key"]
                checker.issue(res_sheet, r.row, col, violation.message, rule=True)
            else:
                col = item_cols.get(violation.field) or item_cols["name"]
                checker.issue(
                    item_sheet, r.items[violation.item].row, col, violation.message, rule=True
                )
    if progress:
        progress(1.0)
    return CheckResult(resources=resources, issues=sort_issues(checker.issues))


SHEET_ORDER = {RESOURCES_SHEET: 0, ITEMS_SHEET: 1}


def sort_issues(issues: list[CellIssue]) -> list[CellIssue]:
    return sorted(
        issues,
        key=lambda i: (SHEET_ORDER.get(i.sheet, 2), i.row, len(i.column), i.column),
    )
