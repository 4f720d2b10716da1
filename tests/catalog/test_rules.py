"""Field rules of a catalog entry (catalog/rules.py), checked directly and through the submit
step of the workflow. Each rule has a case that breaks it (and nothing else) and the same
entry corrected, which passes."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from catalog import rules, services
from catalog.models import ResourceVersion
from wuhan_pdr.kernel.models import WorkflowEvent

from . import factories as f

pytestmark = pytest.mark.django_db


def _items(*changes: dict, base: list[dict] | None = None) -> list[dict]:
    """The valid items with row i updated by changes[i] (an empty dict keeps the row)."""
    items = [dict(item) for item in (base or f.valid_items())]
    for i, change in enumerate(changes):
        items[i].update(change)
    return items


INCREMENTAL_OK = _items({}, {}, {"is_update_flag": True})


@dataclass
class Case:
    id: str
    broken_fields: dict
    broken_items: list[dict] | None
    expected: tuple[str, int | None]  # (field, item row) the violation names
    fixed_fields: dict = field(default_factory=dict)
    fixed_items: list[dict] | None = None


CASES = [
    Case(
        "not_shared_without_legal_basis",
        {"share_type": "none", "share_conditions": "", "share_legal_basis": " "},
        None,
        ("share_legal_basis", None),
        {
            "share_type": "none",
            "share_conditions": "",
            "share_legal_basis": "《国家安全法》规定不予共享。",
        },
    ),
    Case(
        "not_open_without_legal_basis",
        {"open_type": "none", "open_legal_basis": ""},
        None,
        ("open_legal_basis", None),
        {"open_type": "none", "open_legal_basis": "涉及个人信息。"},
    ),
    Case(
        "conditional_share_without_conditions",
        {"share_type": "conditional", "share_conditions": "   "},
        None,
        ("share_conditions", None),
        {"share_type": "conditional", "share_conditions": "仅限社会救助审核。"},
    ),
    Case(
        "conditional_open_without_conditions",
        {"open_type": "conditional", "open_conditions": "", "open_legal_basis": ""},
        None,
        ("open_conditions", None),
        {
            "open_type": "conditional",
            "open_conditions": "经审批后脱敏开放。",
            "open_legal_basis": "",
        },
    ),
    Case(
        "l4_never_open_under_conditions",
        {
            "grade": "L4",
            "open_type": "conditional",
            "open_conditions": "经审批。",
            "open_legal_basis": "",
        },
        None,
        ("open_type", None),
        {"grade": "L4", "open_type": "none"},
    ),
    Case(
        "l3_not_shared_unconditionally",
        {"grade": "L3", "share_type": "unconditional", "share_conditions": ""},
        None,
        ("share_type", None),
        {"grade": "L2", "share_type": "unconditional", "share_conditions": ""},
    ),
    Case(
        # Real-time data need no update flag (Art. 16), but incremental loading does.
        "incremental_update_without_update_flag",
        {"update_mode": "incremental", "update_cycle": "realtime"},
        _items({}, {}, {"is_update_flag": False}),
        ("update_mode", None),
        {"update_mode": "incremental", "update_cycle": "realtime"},
        INCREMENTAL_OK,
    ),
    Case(
        "incremental_update_with_two_update_flags",
        {"update_mode": "incremental"},
        _items(
            {},
            {},
            {"is_update_flag": True},
            base=[
                *f.valid_items(),
                {
                    "name": "入库日期",
                    "english_name": "loaded_on",
                    "data_type": "D",
                    "is_update_flag": True,
                },
            ],
        ),
        ("update_mode", None),
        {"update_mode": "incremental"},
        INCREMENTAL_OK,
    ),
    Case(
        "incremental_update_without_key_item",
        {"update_mode": "incremental"},
        _items({"is_key": False}, {}, {"is_update_flag": True}),
        ("update_mode", None),
        {"update_mode": "incremental"},
        INCREMENTAL_OK,
    ),
    *(
        Case(
            f"{cycle}_update_without_update_flag",
            {"update_cycle": cycle, "update_mode": mode},
            _items({}, {}, {"is_update_flag": False}),
            ("update_cycle", None),
            {"update_cycle": cycle, "update_mode": mode},
            f.valid_items(),
        )
        for cycle in ("daily", "weekly", "monthly", "quarterly", "yearly")
        for mode in ("full", "incremental")
    ),
    Case(
        "update_flag_of_type_c",
        {},
        _items({}, {"is_update_flag": True}, {"is_update_flag": False}),
        ("is_update_flag", 1),
        {},
        _items({}, {}, {"is_update_flag": True}),
    ),
    Case(
        "item_names_equal_ignoring_case",
        {},
        [
            {"name": "Name", "english_name": "a", "data_type": "T", "is_update_flag": True},
            {"name": " name ", "english_name": "b", "data_type": "T"},
        ],
        ("name", 1),
        {},
        [
            {"name": "Name", "english_name": "a", "data_type": "T", "is_update_flag": True},
            {"name": "Name2", "english_name": "b", "data_type": "T"},
        ],
    ),
    Case(
        "column_name_used_twice",
        {},
        _items({}, {"english_name": "id_number"}),
        ("english_name", 1),
        {},
        _items({}, {"english_name": "id_number_2"}),
    ),
    Case(
        "c_item_without_length",
        {},
        _items({"length": None}),
        ("length", 0),
        {},
        _items({"length": 18}),
    ),
    Case(
        "item_graded_above_its_resource",
        {"grade": "L2"},
        _items({"grade": "L3"}),
        ("grade", 0),
        {"grade": "L2"},
        _items({"grade": "L2"}, {"grade": "L1"}),
    ),
    Case(
        "submission_without_summary",
        {"summary": "  "},
        None,
        ("summary", None),
        {"summary": "有摘要。"},
    ),
    Case(
        "submission_without_items",
        {},
        [],
        ("items", None),
        {},
        f.valid_items(),
    ),
]


def _resolve(fields: dict, items: list[dict] | None) -> tuple[dict, list[dict]]:
    """Grade codes in a case become Grade rows (they are only readable with the database)."""
    fields = {k: f.grade(v) if k == "grade" else v for k, v in fields.items()}
    items = [
        {k: f.grade(v) if k == "grade" and v else v for k, v in item.items()}
        for item in (f.valid_items() if items is None else items)
    ]
    return f.valid_fields(**fields), items


def _named(violations) -> list[tuple[str, int | None]]:
    return [(v.field, v.item) for v in violations]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule_fires_and_names_field_and_row(case):
    data, items = _resolve(case.broken_fields, case.broken_items)
    violations = rules.check_resource(data, items, complete=True)
    assert _named(violations) == [case.expected]
    assert all(v.message for v in violations)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_corrected_entry_passes_the_rule(case):
    data, items = _resolve(case.fixed_fields, case.fixed_items)
    assert rules.check_resource(data, items, complete=True) == []


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_submit_refuses_entry_breaking_the_rule_until_corrected(case, agency):
    data, items = _resolve(case.broken_fields, case.broken_items)
    version = services.resource_draft_create(
        acting_user=agency.staff,
        provider=agency.org,
        classification=f.classification(),
        fields=data,
        items=items,
    )
    with pytest.raises(services.RulesBroken) as exc:
        services.resource_transition(version=version, action="submit", acting_user=agency.staff)
    assert case.expected in _named(exc.value.violations)
    version.refresh_from_db()
    assert version.state == ResourceVersion.State.DRAFT
    assert version.submitted_at is None
    assert not WorkflowEvent.objects.filter(object_id=str(version.pk)).exists()

    data, items = _resolve(case.fixed_fields, case.fixed_items)
    services.resource_draft_update(
        version=version, acting_user=agency.staff, fields=data, items=items
    )
    version = services.resource_transition(
        version=version, action="submit", acting_user=agency.staff
    )
    assert version.state == ResourceVersion.State.SUBMITTED


@pytest.mark.parametrize("code", ["L2", "L3", "L4"])
def test_open_unconditionally_refused_above_l1(code):
    data = f.valid_fields(grade=f.grade(code), open_type="unconditional", open_legal_basis="")
    assert _named(rules.check_resource(data, f.valid_items(), complete=True)) == [
        ("open_type", None)
    ]


def test_open_unconditionally_allowed_at_l1():
    data = f.valid_fields(
        grade=f.grade("L1"),
        open_type="unconditional",
        open_legal_basis="",
        share_type="unconditional",
    )
    assert rules.check_resource(data, f.valid_items(), complete=True) == []


@pytest.mark.parametrize("column", ["1st_col", "Name", "col-name", "列名", "_col", "a" * 64])
def test_invalid_column_name_is_refused(column):
    items = _items({"english_name": column})
    assert _named(rules.check_resource(f.valid_fields(), items, complete=True)) == [
        ("english_name", 0)
    ]


@pytest.mark.parametrize("column", ["a", "col_1", "a" * 63])
def test_valid_column_name_passes(column):
    items = _items({"english_name": column})
    assert rules.check_resource(f.valid_fields(), items, complete=True) == []


def test_draft_may_lack_summary_and_items():
    data = f.valid_fields(summary="")
    assert rules.check_resource(data, [], complete=False) == []
    assert _named(rules.check_resource(data, [], complete=True)) == [
        ("summary", None),
        ("items", None),
    ]


def test_violation_names_every_broken_row(agency):
    version = f.make_draft(
        agency,
        items=[
            {"name": "甲", "english_name": "a", "data_type": "C"},
            {"name": "乙", "english_name": "b", "data_type": "N"},
            {"name": "丙", "english_name": "c", "data_type": "T", "is_update_flag": True},
        ],
    )
    with pytest.raises(services.RulesBroken) as exc:
        services.resource_transition(version=version, action="submit", acting_user=agency.staff)
    assert _named(exc.value.violations) == [("length", 0), ("length", 1)]
    assert "2" in str(exc.value)
