"""History records the person who acted, also when no web request is involved."""

import pytest
from django.core.exceptions import ValidationError

from tests.accounts.factories import OrganizationFactory
from wuhan_pdr.kernel.history import audited_save

pytestmark = pytest.mark.django_db


def test_audited_save_records_the_acting_user_outside_a_request(system_admin):
    org = OrganizationFactory()
    org.address = "湖北省武汉市江汉区新华路1号"

    audited_save(org, acting_user=system_admin, reason="moved office")

    latest = org.history.order_by("-history_id").first()
    assert latest.history_user == system_admin
    assert latest.history_change_reason == "moved office"
    assert latest.address == "湖北省武汉市江汉区新华路1号"
    assert latest.history_type == "~"


def test_audited_save_cuts_a_long_reason_to_the_column(system_admin):
    org = OrganizationFactory()
    audited_save(org, acting_user=system_admin, reason="x" * 300)
    assert org.history.order_by("-history_id").first().history_change_reason == "x" * 100


def test_audited_save_validates_before_saving(system_admin):
    org = OrganizationFactory()
    org.credit_code = "123"
    with pytest.raises(ValidationError):
        audited_save(org, acting_user=system_admin)
    assert org.history.count() == 1
