"""Issue 12, item 2 in a real browser with a real Celery worker: demo_agency_staff uploads a
3-row file to the demo 地名信息 file channel, whose table holds 17 rows. The upload form says
beforehand what a full load does; the batch is held (待确认) with the counts, the table keeps
its 17 rows; the provider confirms (a confirmation step), the worker loads it and the table
holds the 3 rows. Screenshots at 1280 px and 360 px."""

from __future__ import annotations

import csv
import os
import re

import pytest
from django.core.management import call_command
from django.db import connection
from playwright.sync_api import expect
from psycopg import sql

from aggregation.datastore import qualified
from aggregation.demo import CHANNEL, HEADER
from aggregation.models import Batch, Channel, DatastoreTable
from tests.catalog.conftest import ensure_catalog_base_data

from .conftest import login

pytestmark = [pytest.mark.e2e]


def write_csv(path, n: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for i in range(n):
            writer.writerow(
                [
                    f"4201990000{i:02d}",
                    f"新地名{i}",
                    f"Xin Diming {i}",
                    "1101",
                    "420106",
                    114.3,
                    30.5,
                    "短文件。",
                ]
            )


def table_codes(channel: Channel) -> list[str]:
    table = DatastoreTable.objects.get(resource=channel.resource)
    with connection.cursor() as cur:
        cur.execute(sql.SQL("SELECT * FROM {}").format(qualified(table)))
        return sorted(str(r[0]) for r in cur.fetchall())


def test_a_short_file_waits_for_confirmation_then_replaces_the_table(
    page, seeded, shot, tmp_path, celery_worker, celery_app_on_spare_redis
):
    ensure_catalog_base_data()
    call_command("seed_demo", only=["aggregation"], stdout=open(os.devnull, "w"))  # noqa: SIM115
    channel = Channel.objects.get(name=CHANNEL)
    before = table_codes(channel)
    assert len(before) == 17
    data = tmp_path / "地名信息-3行.csv"
    write_csv(data, 3)

    login(page, "demo_agency_staff", seeded)
    page.goto(page.base_url + f"/aggregation/channels/{channel.pk}/")
    note = page.locator("#upload-replace-note")
    expect(note).to_contain_text("17")
    shot(page, "01-channel-upload-note-1280")

    page.set_input_files("#id_file", str(data))
    page.select_option("#id_mode", "full")
    page.locator("#upload button[type=submit]").click()

    # The worker finds that 17 rows would become 3: the batch waits for confirmation.
    hold = page.locator("#hold")
    expect(hold).to_be_visible(timeout=60_000)
    expect(page.locator('[data-count="rows-before"]')).to_have_text("17")
    expect(page.locator('[data-count="rows-after"]')).to_have_text("3")
    expect(page.locator("#batch-status")).to_contain_text(re.compile("待确认|Awaiting"))
    batch = Batch.objects.filter(channel=channel).latest("created_at")
    assert batch.status == Batch.Status.HELD, celery_worker.log_tail()
    assert table_codes(channel) == before
    shot(page, "02-batch-held-1280")
    page.set_viewport_size({"width": 360, "height": 780})
    shot(page, "03-batch-held-360")

    # Confirm: a first click opens the confirmation step, the second confirms.
    page.locator("#hold summary").first.click()
    shot(page, "04-confirm-step-360")
    page.get_by_role("button", name=re.compile("是，替换数据表|Yes, replace the table")).click()
    expect(page.locator("[data-progress-url]")).to_have_count(0, timeout=60_000)
    expect(page.locator('[data-count="inserted"]')).to_have_text("3", timeout=60_000)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.SUCCEEDED, celery_worker.log_tail()
    assert batch.hold_decided_by.username == "demo_agency_staff"
    assert table_codes(channel) == [f"4201990000{i:02d}" for i in range(3)]
    shot(page, "05-batch-confirmed-360")
    page.set_viewport_size({"width": 1280, "height": 900})
    shot(page, "06-batch-confirmed-1280")

    # The channel's history records the confirmation.
    page.goto(page.base_url + f"/aggregation/channels/{channel.pk}/")
    expect(page.locator("body")).to_contain_text(str(batch.pk)[:8])
    shot(page, "07-channel-history-1280")
