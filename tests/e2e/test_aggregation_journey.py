"""The aggregation journey of issue #6 in a real browser, with a real Celery worker:
demo_agency_staff opens the demo file channel of 武汉市民政局, uploads a CSV (full reload),
watches the progress bar of the batch until the page shows its counts, and pages through the
loaded rows in the data preview."""

from __future__ import annotations

import csv
import os
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from aggregation.demo import CHANNEL, HEADER
from aggregation.models import Batch, Channel
from tests.catalog.conftest import ensure_catalog_base_data

from .conftest import login

pytestmark = [pytest.mark.e2e]

ROWS = 30_000


def write_csv(path) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for i in range(ROWS):
            writer.writerow(
                [
                    f"4201{i:08d}",
                    f"演示地名{i}",
                    f"Yanshi Diming {i}",
                    "1101",
                    "420106",
                    round(114.3 + i / 1e6, 6),
                    round(30.5 + i / 1e6, 6),
                    "批量导入的演示地名。",
                ]
            )


def test_staff_uploads_a_csv_watches_the_load_and_previews_the_rows(
    page, seeded, shot, tmp_path, celery_worker, celery_app_on_spare_redis
):
    ensure_catalog_base_data()
    call_command("seed_demo", only=["aggregation"], stdout=open(os.devnull, "w"))  # noqa: SIM115
    channel = Channel.objects.get(name=CHANNEL)
    data = tmp_path / "地名信息-全量.csv"
    write_csv(data)

    login(page, "demo_agency_staff", seeded)
    page.goto(page.base_url + "/aggregation/")
    shot(page, "01-channels")
    page.get_by_role("link", name=CHANNEL).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(CHANNEL)
    shot(page, "02-channel")

    page.set_input_files("#id_file", str(data))
    page.select_option("#id_mode", "full")
    page.locator("#upload button[type=submit]").click()
    expect(page.locator(".progress-card, .counts").first).to_be_visible()
    shot(page, "03-batch-loading")

    # The worker loads it; the page polls and reloads by itself when the load is done.
    expect(page.locator("[data-progress-url]")).to_have_count(0, timeout=60_000)
    expect(page.locator('[data-count="received"]')).to_have_text(str(ROWS))
    expect(page.locator('[data-count="inserted"]')).to_have_text(str(ROWS))
    batch = Batch.objects.filter(channel=channel).latest("created_at")
    assert batch.status == Batch.Status.SUCCEEDED, celery_worker.log_tail()
    assert batch.mode == Batch.Mode.FULL
    shot(page, "04-batch-done")

    page.get_by_role("link", name=re.compile("预览数据|Preview the data")).first.click()
    first_cell = page.locator(".preview-table tbody tr").first.locator("td").first
    expect(first_cell).to_have_text("420100000000")
    expect(page.locator(".preview-table tbody tr")).to_have_count(50)
    shot(page, "05-preview")
    page.get_by_role("link", name=re.compile("下一页|Next")).click()
    expect(first_cell).to_have_text("420100000050")
    page.fill("#id_prefix", "4201000299")
    page.locator("form.filter-bar button[type=submit]").click()
    expect(page.locator(".preview-table tbody tr")).to_have_count(50)
    expect(first_cell).to_have_text("420100029900")
    shot(page, "06-preview-filtered")

    page.goto(page.base_url + "/aggregation/downtime/")
    expect(page.locator(".downtime-table")).to_contain_text("地名信息管理系统")
    shot(page, "07-downtime")
    page.goto(page.base_url + "/aggregation/board/")
    expect(page.locator(".board-table tbody tr")).to_have_count(1)
    shot(page, "08-board")
    page.goto(page.base_url + f"/aggregation/channels/new/?resource={channel.resource_id}")
    page.select_option("#id_kind", "api_pull")
    expect(page.locator("#id_cfg_api_pull__url")).to_be_visible()
    expect(page.locator("#id_cfg_db_extract__host")).to_be_hidden()
    shot(page, "09-channel-form")
