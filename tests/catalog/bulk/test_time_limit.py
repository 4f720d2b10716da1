"""A bulk filing stopped at its soft time limit fails, says so, and imports nothing."""

from __future__ import annotations

from celery.exceptions import SoftTimeLimitExceeded

from catalog.bulk import services
from catalog.bulk.models import BulkFiling
from catalog.models import ResourceVersion
from tests.catalog.bulk.workbooks import make
from wuhan_pdr.kernel.jobs import soft_time_limit_of, time_limit_message

from .conftest import upload


def test_a_filing_stopped_at_its_time_limit_says_so(agency, monkeypatch):
    def stopped(*args, **kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(services, "_process", stopped)  # the worker's signal, mid-check
    filing = services.bulk_filing_upload(acting_user=agency.staff, upload=upload(make.valid()))
    assert services.bulk_filing_process(filing_id=filing.pk) == "failed"

    filing.refresh_from_db()
    assert filing.state == BulkFiling.State.FAILED
    limit = soft_time_limit_of("catalog.bulk_filing_process")
    assert limit and time_limit_message(limit) in filing.failure
    assert not ResourceVersion.objects.filter(resource__provider=agency.org).exists()
