"""Art. 16: data updated periodically carries an update flag. Every resource whose update
cycle is daily, weekly, monthly, quarterly or yearly needs an item marked as update flag,
whatever its update mode; real-time and irregular data need none. The rule lives in
catalog/rules.py and holds wherever the rules apply: the services' submit step, the filing
form and the Excel bulk filing check (the catalog API only reads)."""

from __future__ import annotations

import pytest
from django.utils import translation

from catalog import rules, services
from catalog.bulk.services import bulk_filing_process, bulk_filing_upload
from catalog.demo import RESOURCES, parse_items
from catalog.models import Resource, ResourceVersion
from tests.catalog.bulk.conftest import upload
from tests.catalog.bulk.workbooks import make
from tests.messages import message_parts
from tests.test_translations import compiled_catalog  # noqa: F401 (fixture)

from . import factories as f
from .test_permissions import _item_post, filing_post

pytestmark = pytest.mark.django_db

PERIODIC = ["daily", "weekly", "monthly", "quarterly", "yearly"]
MESSAGE = (
    "Data updated periodically (%(cycle)s) must carry an update flag (Art. 16):"
    " mark a date, time or number item as “update flag”, or add one, such as"
    " an update time of type T."
)


def unflagged_items() -> list[dict]:
    return [{**item, "is_update_flag": False} for item in f.valid_items()]


def _named(violations) -> list[tuple[str, int | None]]:
    return [(v.field, v.item) for v in violations]


@pytest.mark.parametrize("mode", ["full", "incremental"])
@pytest.mark.parametrize("cycle", PERIODIC)
def test_periodic_entry_without_update_flag_is_refused_whatever_its_mode(cycle, mode):
    data = f.valid_fields(update_cycle=cycle, update_mode=mode)
    violations = rules.check_resource(data, unflagged_items(), complete=True)
    # One message, on the update cycle (incremental loading would need the same flag).
    assert _named(violations) == [("update_cycle", None)]
    assert rules.check_resource(data, f.valid_items(), complete=True) == []


@pytest.mark.parametrize("cycle", ["realtime", "irregular"])
def test_realtime_and_irregular_data_need_no_update_flag(cycle):
    data = f.valid_fields(update_cycle=cycle, update_mode="full")
    assert rules.check_resource(data, unflagged_items(), complete=True) == []


def test_a_flag_on_a_text_item_does_not_count(agency):
    items = unflagged_items()
    items[1]["is_update_flag"] = True  # 姓名, type C
    data = f.valid_fields(update_cycle="weekly")
    assert _named(rules.check_resource(data, items, complete=True)) == [("is_update_flag", 1)]


def test_the_message_names_the_update_flag_in_chinese(compiled_catalog):  # noqa: F811
    data = f.valid_fields(update_cycle="quarterly")
    with translation.override("zh-hans"):
        [violation] = rules.check_resource(data, unflagged_items(), complete=True)
        text = str(violation.message)
    assert "更新标识" in text and "第十六条" in text and "每季" in text
    assert "update flag" not in text


def test_submit_service_refuses_until_an_item_is_the_update_flag(agency):
    version = f.make_draft(agency, items=unflagged_items(), update_cycle="daily")
    with pytest.raises(services.RulesBroken) as exc:
        services.resource_transition(version=version, action="submit", acting_user=agency.staff)
    assert _named(exc.value.violations) == [("update_cycle", None)]
    version.refresh_from_db()
    assert version.state == ResourceVersion.State.DRAFT
    services.resource_draft_update(
        version=version, acting_user=agency.staff, fields={}, items=f.valid_items()
    )
    version = services.resource_transition(
        version=version, action="submit", acting_user=agency.staff
    )
    assert version.state == ResourceVersion.State.SUBMITTED


def test_filing_form_marks_the_update_cycle_and_submits_once_flagged(agency, compiled_catalog):  # noqa: F811
    from django.test import Client

    staff = Client()
    staff.force_login(agency.staff)
    data = {
        **filing_post(name="按月更新无标识", update_cycle="monthly"),
        **_item_post(unflagged_items()),
        "submit_after_save": "1",
    }
    del data["items-2-is_update_flag"]  # the check box of 更新时间 left unticked
    response = staff.post("/catalog/new/", data)
    version = ResourceVersion.objects.get(name="按月更新无标识")
    assert version.state == ResourceVersion.State.DRAFT
    assert response["Location"] == f"/catalog/versions/{version.pk}/edit/?check=1"
    page = staff.get(response["Location"])
    [error] = page.context["form"].errors["update_cycle"]
    assert "更新标识" in error
    assert error in page.content.decode()

    fixed = {**filing_post(name="按月更新无标识", update_cycle="monthly"), "submit_after_save": "1"}
    response = staff.post(f"/catalog/versions/{version.pk}/edit/", fixed)
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.state == ResourceVersion.State.SUBMITTED


def test_bulk_filing_reports_the_row_without_update_flag_by_sheet_row_and_column(agency):
    from catalog.bulk.models import BulkFiling

    filing = bulk_filing_upload(
        acting_user=agency.staff, upload=upload(make.with_periodic_without_update_flag())
    )
    assert bulk_filing_process(filing_id=filing.pk) == "refused"
    filing.refresh_from_db()
    assert filing.state == BulkFiling.State.REFUSED
    [error] = filing.errors
    assert (error["sheet"], error["row"], error["column"]) == ("资源", 3, "Q")  # R2's 更新周期
    with translation.override("zh-hans"):
        assert message_parts(error["message"], MESSAGE) == {"cycle": str(_monthly())}
    assert not Resource.objects.filter(provider=agency.org).exists()


def _monthly():
    from catalog.models import UpdateCycle

    return UpdateCycle.MONTHLY.label


def test_every_periodic_demo_resource_carries_an_update_flag():
    cycles = {"d", "w", "m", "q", "y"}
    missing = [
        row[1]
        for row in RESOURCES
        if row[5].split()[3] in cycles and not any(i["is_update_flag"] for i in parse_items(row[6]))
    ]
    assert missing == []
