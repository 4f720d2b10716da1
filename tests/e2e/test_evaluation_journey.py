"""Journey (issue #17, Art. 29): demo_city_reviewer creates an evaluation plan, runs it through
the real worker, adjusts one agency's score with a reason, publishes, downloads the Excel
report (checked with openpyxl against the page); the agency's data officer sees its own
results only."""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import load_workbook

from catalog.filing.models import InformationSystem
from supervision.evaluation.models import EvaluationRun
from tests.e2e.conftest import login
from tests.services import wait_for
from wuhan_pdr.accounts.models import Organization, User
from wuhan_pdr.kernel.workdays import SHANGHAI

pytestmark = pytest.mark.django_db(transaction=True)


def _census(agency: Organization, user: User, n: int) -> None:
    """`n` systems in use (none in the catalog), entered at the start of the year."""
    for i in range(n):
        s = InformationSystem.objects.create(
            organization=agency,
            name=f"业务系统{i}",
            purpose="业务办理",
            status="in_use",
            contact_name="张三",
            contact_phone="027-12345678",
            created_by=user,
        )
        InformationSystem.objects.filter(pk=s.pk).update(
            created_at=dt.datetime(dt.date.today().year, 1, 2, tzinfo=SHANGHAI)
        )


def test_reviewer_plans_runs_adjusts_and_downloads_the_report(
    page, seeded, shot, tmp_path, celery_worker, celery_app_on_spare_redis
):
    password = seeded
    civil = Organization.objects.get(name="武汉市民政局")
    other = Organization.objects.get(name="武汉市公安局")
    officer = User.objects.get(username="demo_agency_admin")
    _census(civil, officer, 2)
    _census(other, officer, 1)

    login(page, "demo_city_reviewer", password)
    page.goto(page.base_url + "/supervision/evaluation/")
    shot(page, "01-plans-empty")
    page.locator(".page-actions a.btn-primary").click()
    year = dt.date.today().year
    page.fill("#id_name", "年度评估（测试）")
    page.fill("#id_period_start", f"{year}-01-01")
    page.fill("#id_period_end", f"{year}-12-31")
    page.fill("#id_w_catalog_coverage", "60")
    page.fill("#id_w_security_current", "30")
    page.locator("main form [type=submit]").click()
    assert "100" in page.locator(".alert-error, .errorlist, .field-error").first.inner_text()
    shot(page, "02-weights-refused")
    page.fill("#id_w_security_current", "40")
    page.locator("main form [type=submit]").click()
    page.wait_for_url("**/supervision/evaluation/*/")
    shot(page, "03-plan")

    page.locator("main .page-actions form [type=submit]").click()
    page.wait_for_url("**/runs/*/")
    run = EvaluationRun.objects.get(plan__name="年度评估（测试）")
    try:
        wait_for(
            lambda: EvaluationRun.objects.get(pk=run.pk).state == "done",
            timeout=60,
            what="run computed",
        )
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n--- worker ---\n{celery_worker.log_tail()}") from None
    page.reload()
    shot(page, "04-ranking")
    assert page.locator("#ranking tbody tr").count() >= 2

    # Adjust 武汉市民政局 with a reason (refused without one).
    page.locator("#ranking a", has_text="武汉市民政局").click()
    page.fill("#id_delta", "5")
    page.locator("#adjust [type=submit]").click()
    assert page.locator("#adjust .alert-error, #adjust .errorlist").count() >= 1
    page.fill("#id_delta", "5")
    page.fill("#id_reason", "已完成普查补录，酌情加分。")
    page.locator("#adjust [type=submit]").click()
    page.wait_for_load_state("domcontentloaded")
    assert page.locator("#score-adjustment").inner_text().strip() == "5.00"
    final = page.locator("#score-final").inner_text().strip()
    shot(page, "05-adjusted")

    page.goto(page.base_url + f"/supervision/evaluation/runs/{run.pk}/")
    page.locator("main .page-actions form [type=submit]").click()
    page.wait_for_load_state("domcontentloaded")
    ranking = {
        row.locator("td").nth(1).inner_text().strip(): (
            row.locator("td").nth(0).inner_text().strip(),
            row.locator("td").nth(4).inner_text().strip(),
        )
        for row in page.locator("#ranking tbody tr").all()
    }
    with page.expect_download() as dl:
        page.locator("a[href$='report.xlsx']").click()
    path = tmp_path / "report.xlsx"
    dl.value.save_as(path)
    wb = load_workbook(path)
    assert wb.sheetnames[0] == "汇总" and len(wb.sheetnames) == 3
    summary = wb["汇总"]
    rows = {
        r[1]: (r[0], r[4])
        for r in summary.iter_rows(min_row=2, max_col=5, values_only=True)
        if r[1] and r[1] in ranking
    }
    assert rows["武汉市民政局"][1] == float(final)
    for name, (rank, score) in rows.items():
        shown = ("—", "—") if score is None else (str(rank), f"{score:.2f}")
        assert shown == ranking[name], name
    coverage = wb[wb.sheetnames[1]]
    cells = {r[1]: r for r in coverage.iter_rows(min_row=2, max_col=6, values_only=True) if r[1]}
    assert cells["武汉市民政局"][2:4] == (0, 2)  # numerator, denominator as counted

    # The agency's data officer sees its own result only.
    page.context.clear_cookies()
    login(page, "demo_agency_admin", password)
    page.goto(page.base_url + "/supervision/evaluation/mine/")
    shot(page, "06-agency-results")
    assert page.locator("#my-results tbody tr").count() == 1
    page.locator("#my-results a").first.click()
    assert page.locator("h1").inner_text().strip() == "武汉市民政局"
    page.locator("#indicators a").first.click()
    assert page.locator("#records tbody tr").count() == 2
    shot(page, "07-drill-down")
    resp = page.goto(page.base_url + f"/supervision/evaluation/runs/{run.pk}/agencies/{other.pk}/")
    assert resp.status == 404
