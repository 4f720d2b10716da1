"""Rules between the fields of a catalog entry, in one place.

They work on plain values (a dict for the resource, a list of dicts for its items) so that
the filing form, the services and the Excel bulk filing apply exactly the same rules and
report them the same way: each violation names the field and, for items, the row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from security.models import Grade

from .models import DataItem, OpenType, ShareType, UpdateCycle, UpdateMode

COLUMN_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
LENGTH_REQUIRED = {DataItem.DataType.C, DataItem.DataType.N, DataItem.DataType.Y}
UPDATE_FLAG_TYPES = {
    DataItem.DataType.D,
    DataItem.DataType.T,
    DataItem.DataType.N,
    DataItem.DataType.I,
}
# Art. 16: data updated periodically must carry an update flag. Real-time and irregular
# updates are not periodic; the regulation asks nothing of them.
PERIODIC_CYCLES = frozenset(
    {
        UpdateCycle.DAILY,
        UpdateCycle.WEEKLY,
        UpdateCycle.MONTHLY,
        UpdateCycle.QUARTERLY,
        UpdateCycle.YEARLY,
    }
)


@dataclass(frozen=True)
class Violation:
    field: str
    message: str
    item: int | None = None  # index of the item row, None for the resource itself


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def check_resource(
    data: dict, items: list[dict], *, complete: bool, highest_rank: int | None = None
) -> list[Violation]:
    """Every rule the entry breaks. `complete` adds what a submission needs beyond a draft."""
    v: list[Violation] = []
    grade: Grade | None = data.get("grade")
    share_type, open_type = data.get("share_type"), data.get("open_type")

    if share_type == ShareType.NONE and _blank(data.get("share_legal_basis")):
        v.append(
            Violation(
                "share_legal_basis",
                _("A resource that is not shared must state the legal basis for it."),
            )
        )
    if share_type == ShareType.CONDITIONAL and _blank(data.get("share_conditions")):
        v.append(
            Violation(
                "share_conditions", _("State the conditions under which the resource is shared.")
            )
        )
    if open_type == OpenType.NONE and _blank(data.get("open_legal_basis")):
        v.append(
            Violation(
                "open_legal_basis",
                _("A resource that is not open must state the legal basis for it."),
            )
        )
    if open_type == OpenType.CONDITIONAL and _blank(data.get("open_conditions")):
        v.append(
            Violation(
                "open_conditions", _("State the conditions under which the resource is opened.")
            )
        )

    if grade is not None:
        if highest_rank is None:
            highest_rank = Grade.objects.order_by("-rank").values_list("rank", flat=True).first()
        if open_type == OpenType.UNCONDITIONAL and (
            not grade.may_open_unconditionally or grade.rank == highest_rank
        ):
            v.append(
                Violation(
                    "open_type",
                    _("Data of grade %(grade)s may never be opened unconditionally.")
                    % {"grade": grade},
                )
            )
        if open_type == OpenType.CONDITIONAL and not grade.may_open_conditionally:
            v.append(
                Violation(
                    "open_type",
                    _("Data of grade %(grade)s may not be opened at all.") % {"grade": grade},
                )
            )
        if share_type == ShareType.UNCONDITIONAL and not grade.may_share_unconditionally:
            v.append(
                Violation(
                    "share_type",
                    _("Data of grade %(grade)s may only be shared under conditions.")
                    % {"grade": grade},
                )
            )
        # Art. 18: only data whose grade allows it may enter the authorized-operation scope.
        if data.get("operation_eligible") and not grade.may_operate:
            v.append(
                Violation(
                    "operation_eligible",
                    _(
                        "Eligible for authorized operation: data of grade %(grade)s may not "
                        "enter the authorized-operation scope."
                    )
                    % {"grade": grade},
                )
            )

    names: dict[str, int] = {}
    columns: dict[str, int] = {}
    for i, item in enumerate(items):
        name = (item.get("name") or "").strip()
        if name:
            key = name.casefold()
            if key in names:
                v.append(
                    Violation(
                        "name",
                        _("Item name “%(name)s” is used twice (also in row %(row)d).")
                        % {"name": name, "row": names[key] + 1},
                        i,
                    )
                )
            names.setdefault(key, i)
        column = (item.get("english_name") or "").strip()
        if column:
            if not COLUMN_NAME.match(column):
                v.append(
                    Violation(
                        "english_name",
                        _(
                            "A column name starts with a small letter and uses small letters, digits and _ only (at most 63)."
                        ),
                        i,
                    )
                )
            elif column in columns:
                v.append(
                    Violation(
                        "english_name",
                        _("Column name “%(name)s” is used twice.") % {"name": column},
                        i,
                    )
                )
            columns.setdefault(column, i)
        dtype = item.get("data_type")
        if dtype in LENGTH_REQUIRED and not item.get("length"):
            v.append(
                Violation("length", _("Items of type %(type)s need a length.") % {"type": dtype}, i)
            )
        if item.get("is_update_flag") and dtype not in UPDATE_FLAG_TYPES:
            v.append(
                Violation(
                    "is_update_flag", _("An update flag must be a date, a time or a number."), i
                )
            )
        item_grade: Grade | None = item.get("grade")
        if item_grade is not None and grade is not None and item_grade.rank > grade.rank:
            v.append(
                Violation(
                    "grade",
                    _("An item cannot be graded higher than its resource (%(grade)s).")
                    % {"grade": grade},
                    i,
                )
            )

    flags = [i for i, it in enumerate(items) if it.get("is_update_flag")]
    cycle = data.get("update_cycle")
    # An entry without items is told to add items first (on submission, below).
    periodic_unflagged = cycle in PERIODIC_CYCLES and bool(items) and not flags
    if periodic_unflagged:
        v.append(
            Violation(
                "update_cycle",
                _(
                    "Data updated periodically (%(cycle)s) must carry an update flag (Art. 16):"
                    " mark a date, time or number item as “update flag”, or add one, such as"
                    " an update time of type T."
                )
                % {"cycle": UpdateCycle(cycle).label},
            )
        )
    if data.get("update_mode") == UpdateMode.INCREMENTAL:
        # No flag at all on a periodic entry is already reported above, by its cycle.
        if len(flags) != 1 and not periodic_unflagged:
            v.append(
                Violation(
                    "update_mode",
                    _(
                        "Incremental update needs exactly one item marked as update flag (now %(n)d)."
                    )
                    % {"n": len(flags)},
                )
            )
        if not any(it.get("is_key") for it in items):
            v.append(Violation("update_mode", _("Incremental update needs at least one key item.")))

    if complete:
        if _blank(data.get("summary")):
            v.append(Violation("summary", _("A summary is required before submission.")))
        if not items:
            v.append(
                Violation("items", _("A resource needs at least one data item before submission."))
            )
    return v
