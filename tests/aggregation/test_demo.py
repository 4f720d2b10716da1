"""The aggregation demo data: the file channel of 武汉市民政局 loaded with its place names
(through the services, with the batch run in the seed) and a planned window; idempotent."""

from __future__ import annotations

import os

from django.core.management import call_command
from django.db import connection
from psycopg import sql

from aggregation.datastore import qualified
from aggregation.demo import CHANNEL, PLACES, WINDOW
from aggregation.models import Batch, Channel, DatastoreTable, DowntimeReport
from security.assessments.selectors import current_assessment
from tests.aggregation.test_views import _base, client  # noqa: F401  (autouse fixture)
from wuhan_pdr.accounts.models import User


def seed() -> None:
    call_command("seed_demo", only=["aggregation"], stdout=open(os.devnull, "w"))  # noqa: SIM115


def test_demo_loads_the_file_channel_and_reports_a_window_once(db):
    seed()
    channel = Channel.objects.get(name=CHANNEL)
    assert channel.state == Channel.State.ACTIVE
    assessment = current_assessment("channel", channel.pk)
    assert assessment.assessor.username == "demo_security_admin" and assessment.passed
    batch = channel.batches.get()
    assert batch.status == Batch.Status.SUCCEEDED, batch.error
    assert (batch.rows_received, batch.rows_inserted) == (len(PLACES), len(PLACES))
    table = DatastoreTable.objects.get(resource=channel.resource)
    with connection.cursor() as cur:
        cur.execute(sql.SQL("SELECT count(*) FROM {}").format(qualified(table)))
        assert cur.fetchone()[0] == len(PLACES) == table.row_count
    window = DowntimeReport.objects.get(description=WINDOW)
    assert window.is_planned and window.cancelled_at is None

    seed()
    assert Channel.objects.filter(name=CHANNEL).count() == 1
    assert Batch.objects.filter(channel=channel).count() == 1
    assert DowntimeReport.objects.filter(description=WINDOW).count() == 1

    staff = User.objects.get(username="demo_agency_staff")
    preview = client(staff).get(f"/aggregation/resources/{channel.resource_id}/preview/")
    assert preview.status_code == 200 and "黄鹤楼" in preview.text
