"""Imported drafts are the drafts the filing form makes: same fields, history, no catalog
entry and no workflow event; codes follow the classification's sequence."""

from __future__ import annotations

import pytest

from catalog import services
from catalog.bulk.services import bulk_filing_process, bulk_filing_upload
from catalog.models import CatalogEntry, ResourceVersion
from catalog.services import RESOURCE_FILED
from tests.catalog.bulk.conftest import upload
from tests.catalog.bulk.workbooks import make
from tests.catalog.factories import classification, grade
from wuhan_pdr.kernel.models import WorkflowEvent

pytestmark = pytest.mark.django_db


def _form_draft(agency):
    return services.resource_draft_create(
        acting_user=agency.staff,
        provider=agency.org,
        classification=classification("101"),
        fields={
            "name": "表单资源",
            "summary": "表单资源的摘要。",
            "grade": grade("L2"),
            "share_type": "conditional",
            "share_conditions": "用于政务服务",
            "open_type": "none",
            "open_legal_basis": "涉及个人信息",
        },
        items=[{"name": "信息项1", "english_name": "col_1", "data_type": "C", "length": 50}],
    )


def test_codes_continue_the_sequence_of_the_classification(agency):
    first = _form_draft(agency)
    filing = bulk_filing_upload(acting_user=agency.staff, upload=upload(make.valid()))
    bulk_filing_process(filing_id=filing.pk)
    after = _form_draft(agency)
    codes = sorted(
        ResourceVersion.objects.filter(resource__provider=agency.org).values_list(
            "resource__sequence", flat=True
        )
    )
    assert codes == list(range(first.resource.sequence, after.resource.sequence + 1))


def test_imported_draft_is_like_a_form_draft(agency):
    form_version = _form_draft(agency)
    filing = bulk_filing_upload(acting_user=agency.staff, upload=upload(make.valid()))
    bulk_filing_process(filing_id=filing.pk)
    bulk_version = ResourceVersion.objects.get(name="批量资源1")
    for field in ("state", "number", "created_by_id", "grade_id", "share_type", "open_type"):
        assert getattr(bulk_version, field) == getattr(form_version, field), field
    assert not CatalogEntry.objects.exists()
    assert not WorkflowEvent.objects.exists()
    record = bulk_version.history.get()
    assert record.history_type == "+" and record.history_user == agency.staff
    assert record.history_change_reason == RESOURCE_FILED  # as the form writes it
    assert services.violations_of(bulk_version, complete=True) == []


def test_imported_draft_can_be_edited_and_submitted_like_any_draft(agency):
    filing = bulk_filing_upload(acting_user=agency.staff, upload=upload(make.valid()))
    bulk_filing_process(filing_id=filing.pk)
    version = ResourceVersion.objects.get(name="2024-01 人口增量")
    services.resource_transition(version=version, action="submit", acting_user=agency.staff)
    version.refresh_from_db()
    assert version.state == ResourceVersion.State.SUBMITTED


def test_theme_history_is_recorded_with_the_creation(agency):
    filing = bulk_filing_upload(acting_user=agency.staff, upload=upload(make.valid()))
    bulk_filing_process(filing_id=filing.pk)
    version = ResourceVersion.objects.get(name="2024-01 人口增量")
    record = version.history.get()
    assert sorted(t.classification.code for t in record.themes.all()) == ["201", "202"]


def test_staff_who_lost_the_right_to_file_imports_nothing(agency):
    filing = bulk_filing_upload(acting_user=agency.staff, upload=upload(make.valid()))
    agency.staff.is_active = False
    agency.staff.save()
    assert bulk_filing_process(filing_id=filing.pk) == "failed"
    assert not ResourceVersion.objects.exists()
