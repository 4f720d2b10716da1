"""Journey (issue #17 item 4, Art. 28): demo_city_reviewer plans a supervision inspection of an
agency, notifies it, starts, records a finding with evidence, completes the findings and issues
a rectification order from the finding; the agency's staff sees the inspection in its work
queue, the finding's order and the order's way back to the inspection. Screenshots in Chinese
at 1280 px and 360 px."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from supervision.inspections.models import Finding, Inspection
from supervision.rectification.models import RectificationOrder
from tests.e2e.conftest import login, logout

pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_reviewer_inspects_an_agency_and_orders_rectification_from_a_finding(
    page, seeded, shot, tmp_path
):
    password = seeded

    def snap(name, *, narrow=False):
        if narrow:
            page.set_viewport_size({"width": 360, "height": 800})
        path = shot(page, name)
        shutil.copy(path, f"/tmp/inspections-{name}.png")
        if narrow:
            page.set_viewport_size({"width": 1280, "height": 900})

    login(page, "demo_city_reviewer", password)
    page.goto(page.base_url + "/supervision/inspections/")
    assert page.locator("main .empty-state, main .empty").count() >= 1
    snap("01-list-empty")
    page.locator(".page-actions a.btn-primary").click()
    page.select_option("#id_subject", label="武汉市民政局")
    page.locator("main form [type=submit]").click()
    page.wait_for_url("**/inspections/new/?subject=*")
    start = dt.date.today()
    page.fill("#id_title", "民政数据管理定期监督检查")
    page.select_option("#id_kind", "regular")
    page.check("#id_scope_0")
    page.check("#id_scope_2")
    page.fill("#id_planned_start", f"{start:%Y-%m-%d}")
    page.fill("#id_planned_end", f"{start - dt.timedelta(days=1):%Y-%m-%d}")
    page.locator("main form [type=submit]").click()
    # Refused with the field named, and what was typed is kept.
    assert page.locator("#id_title").input_value() == "民政数据管理定期监督检查"
    assert page.locator(".field-errors, .errorlist").count() >= 1
    snap("02-plan-refused")
    page.fill("#id_planned_end", f"{start + dt.timedelta(days=7):%Y-%m-%d}")
    page.locator("main form [type=submit]").click()
    page.wait_for_url("**/supervision/inspections/*/")
    inspection = Inspection.objects.get(title="民政数据管理定期监督检查")
    assert inspection.state == "planned" and inspection.scope == ["catalog", "sharing"]
    assert "武汉市数据局" in page.locator("#next-step").inner_text()
    snap("03-planned")

    page.locator("button[value=notify]").click()
    page.wait_for_load_state("domcontentloaded")
    page.locator("button[value=start]").click()
    page.wait_for_load_state("domcontentloaded")
    evidence = tmp_path / "现场检查记录.pdf"
    evidence.write_bytes(PDF)
    page.select_option("#id_area", "catalog")
    page.select_option("#id_severity", "serious")
    page.fill("#id_description", "婚姻登记数据目录连续两个周期未更新。")
    page.fill("#id_references", "汇聚通道 #3")
    page.set_input_files("#id_files", str(evidence))
    page.locator("#new-finding [type=submit]").click()
    page.wait_for_url("**#finding-1")
    assert "婚姻登记数据目录" in page.locator("#finding-1").inner_text()
    snap("04-finding")
    page.fill("#id_comment", "发现问题 1 项。")
    page.locator("button[value=record]").click()
    page.wait_for_load_state("domcontentloaded")
    # Closing while the finding has no follow-up is refused.
    page.locator("button[value=close]").click()
    assert "#1" in page.locator(".alert-error").first.inner_text()
    page.locator("#finding-1 a.btn-primary").click()
    page.wait_for_url("**/findings/*/order/")
    facts = page.locator("#id_facts").input_value()
    assert f"#{inspection.pk}" in facts and "婚姻登记数据目录" in facts and "汇聚通道 #3" in facts
    assert page.locator("#id_deadline_days").input_value() == "5"
    snap("05-order-prefilled")
    page.locator("main form.form-card [type=submit]").click()
    page.wait_for_url("**/supervision/inspections/*/")
    finding = Finding.objects.get(inspection=inspection)
    order = RectificationOrder.objects.get(pk=finding.order_id)
    assert order.agency.name == "武汉市民政局" and order.state == "issued"
    assert page.locator("#finding-1 a.finding-order").count() == 1
    snap("06-ordered")
    snap("06-ordered-360", narrow=True)
    logout(page)

    login(page, "demo_agency_staff", password)
    page.goto(page.base_url + "/")
    assert "民政数据管理定期监督检查" in page.locator("main").inner_text()
    page.goto(page.base_url + "/supervision/inspections/")
    assert page.locator("#inspections tbody tr").count() == 1
    snap("07-agency-list")
    page.locator("#inspections tbody a").first.click()
    assert "婚姻登记数据目录" in page.locator("#finding-1").inner_text()
    assert page.locator("#actions").count() == 0
    snap("08-agency-inspection")
    snap("08-agency-inspection-360", narrow=True)
    page.locator("#finding-1 a.finding-order").click()
    page.wait_for_url(f"**/supervision/orders/{order.pk}/")
    assert f"#{inspection.pk}" in page.locator("#order-inspection").inner_text()
    snap("09-agency-order")
