"""Evaluation plans, runs, adjustments, publication, the pages, the Excel report and the
IT-project panel (Art. 29)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from supervision.evaluation import services
from supervision.evaluation.models import AgencyScore, EvaluationRun, ScoreAdjustment
from tests.catalog.factories import make_agency, make_city_bureau
from tests.conftest import client_for
from wuhan_pdr.kernel.errors import DomainError

WEIGHTS = {"catalog_coverage": 60, "security_current": 40}


@pytest.fixture
def city(db):
    return make_city_bureau()


def _plan(city, weights=None, name="方案"):
    return services.plan_create(
        name=name,
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 6, 30),
        weights=WEIGHTS if weights is None else weights,
        acting_user=city.reviewer,
    )


def _computed_run(city, plan=None):
    plan = plan or _plan(city)
    run = EvaluationRun.objects.create(
        plan=plan, number=plan.runs.count() + 1, as_of=plan.period_end, created_by=city.reviewer
    )
    services.run_compute(run_id=run.pk)
    run.refresh_from_db()
    return run


def _give_scores(run, scores: dict):
    """Set computed scores (the indicator computation is tested in test_indicators.py)."""
    for org, value in scores.items():
        AgencyScore.objects.filter(run=run, agency=org).update(computed=value)
    services._rank(run.pk)


@pytest.mark.parametrize(
    "weights",
    [{"catalog_coverage": 60, "security_current": 30}, {"catalog_coverage": 101}, {}],
)
def test_weights_must_add_up_to_100(city, weights):
    with pytest.raises(DomainError) as exc:
        _plan(city, weights=weights)
    assert exc.value.field == "indicators"


def test_the_plan_form_says_why_weights_are_refused(city):
    c = client_for(city.reviewer)
    resp = c.post(
        reverse("supervision:plan_create"),
        {
            "name": "方案",
            "period_start": "2026-01-01",
            "period_end": "2026-06-30",
            "w_catalog_coverage": "50",
            "w_security_current": "30",
        },
    )
    assert resp.status_code == 200
    assert "100" in resp.content.decode()
    ok = c.post(
        reverse("supervision:plan_create"),
        {
            "name": "方案",
            "period_start": "2026-01-01",
            "period_end": "2026-06-30",
            "w_catalog_coverage": "70",
            "w_security_current": "30",
        },
    )
    assert ok.status_code == 302


def test_an_adjustment_needs_a_reason_and_is_kept(city):
    a, b = make_agency(), make_agency()
    run = _computed_run(city)
    _give_scores(run, {a.org: 80, b.org: 70})
    score_b = AgencyScore.objects.get(run=run, agency=b.org)
    for reason in ("", "   "):
        with pytest.raises(DomainError) as exc:
            services.score_adjust(score=score_b, delta=15, reason=reason, acting_user=city.reviewer)
        assert exc.value.field == "reason"
    assert not ScoreAdjustment.objects.exists()
    services.score_adjust(score=score_b, delta=15, reason="补录历史数据", acting_user=city.reviewer)
    score_b.refresh_from_db()
    assert (score_b.final, score_b.rank) == (85, 1)
    assert AgencyScore.objects.get(run=run, agency=a.org).rank == 2
    adj = ScoreAdjustment.objects.get()
    assert (adj.reason, adj.adjusted_by) == ("补录历史数据", city.reviewer)
    assert score_b.history.first().history_user == city.reviewer
    # The page refuses it too, with the message next to the field.
    resp = client_for(city.reviewer).post(
        reverse("supervision:run_agency", args=[run.pk, b.org.pk]), {"delta": "3", "reason": ""}
    )
    assert resp.status_code == 422
    assert ScoreAdjustment.objects.count() == 1


def test_agency_staff_cannot_adjust_or_publish(city):
    a = make_agency()
    run = _computed_run(city)
    score = AgencyScore.objects.get(run=run, agency=a.org)
    with pytest.raises(DomainError):
        services.score_adjust(score=score, delta=5, reason="x", acting_user=a.admin)
    with pytest.raises(DomainError):
        services.run_publish(run=run, acting_user=a.admin)


def test_an_agency_sees_only_its_own_published_results(city):
    a, b = make_agency(), make_agency()
    run = _computed_run(city)
    _give_scores(run, {a.org: 80, b.org: 70})
    ca = client_for(a.admin)
    own = reverse("supervision:run_agency", args=[run.pk, a.org.pk])
    other = reverse("supervision:run_agency", args=[run.pk, b.org.pk])
    assert ca.get(own).status_code == 404  # not published yet
    services.run_publish(run=run, acting_user=city.reviewer)
    assert ca.get(own).status_code == 200
    assert ca.get(other).status_code == 404
    assert (
        ca.get(
            reverse("supervision:run_records", args=[run.pk, b.org.pk, "security_current"])
        ).status_code
        == 404
    )
    assert (
        ca.get(
            reverse("supervision:run_records", args=[run.pk, a.org.pk, "security_current"])
        ).status_code
        == 200
    )
    assert ca.get(reverse("supervision:run_report", args=[run.pk])).status_code == 404
    assert ca.get(reverse("supervision:plan", args=[run.plan_id])).status_code == 404
    assert ca.get(reverse("supervision:run", args=[run.pk])).url == own
    mine = ca.get(reverse("supervision:my_results")).content.decode()
    assert run.plan.name in mine and b.org.name not in mine


def test_the_report_keeps_formula_text_as_text(city):
    evil = make_agency(name='=HYPERLINK("http://x","y")')
    make_agency(name="+1+1")
    run = _computed_run(city)
    _give_scores(run, {evil.org: 90})
    resp = client_for(city.reviewer).get(reverse("supervision:run_report", args=[run.pk]))
    assert resp.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(resp.streaming_content)))
    assert wb.sheetnames[0] == "汇总"
    assert len(wb.sheetnames) == 1 + len(WEIGHTS)
    summary = wb["汇总"]
    assert [c.value for c in summary[1]][:5] == ["名次", "单位", "计算得分", "调整分", "最终得分"]
    assert summary["B2"].value == evil.org.name and summary["B2"].data_type == "s"
    assert summary["E2"].value == 90 and summary["E2"].number_format == "0.00"
    assert summary.freeze_panes == "A2"
    names = [c.value for row in wb[wb.sheetnames[1]].iter_rows(min_row=2, max_col=2) for c in row]
    assert "+1+1" in names
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
    import zipfile

    with zipfile.ZipFile(
        io.BytesIO(
            b"".join(
                client_for(city.reviewer)
                .get(reverse("supervision:run_report", args=[run.pk]))
                .streaming_content
            )
        )
    ) as z:
        assert any(n.startswith("xl/charts/chart") for n in z.namelist())


def test_naughty_strings_never_break_the_forms(city, naughty):
    a = make_agency()
    run = _computed_run(city)
    _give_scores(run, {a.org: 50})
    c = client_for(city.reviewer)
    for text in naughty[::7]:
        r1 = c.post(
            reverse("supervision:plan_create"),
            {
                "name": text,
                "period_start": text,
                "period_end": "2026-06-30",
                "w_catalog_coverage": text,
            },
        )
        r2 = c.post(
            reverse("supervision:run_agency", args=[run.pk, a.org.pk]),
            {"delta": text, "reason": text},
        )
        r3 = c.get(reverse("supervision:plans"), {"q": text})
        assert r1.status_code < 500 and r2.status_code < 500 and r3.status_code < 500, text


def test_the_pages_render_with_a_bounded_number_of_queries(city, django_assert_max_num_queries):
    agencies = [make_agency() for _ in range(3)]
    run = _computed_run(city)
    _give_scores(run, {x.org: 50 + i for i, x in enumerate(agencies)})
    c = client_for(city.reviewer)
    for url in (
        reverse("supervision:plans"),
        reverse("supervision:plan", args=[run.plan_id]),
        reverse("supervision:run", args=[run.pk]),
        reverse("supervision:run_agency", args=[run.pk, agencies[0].org.pk]),
        reverse("supervision:run_records", args=[run.pk, agencies[0].org.pk, "catalog_coverage"]),
    ):
        with django_assert_max_num_queries(25):
            assert c.get(url).status_code == 200, url


def test_the_it_project_page_shows_the_latest_published_score(city):
    from catalog.filing.models import ITProject

    a = make_agency()
    run = _computed_run(city)
    _give_scores(run, {a.org: 77})
    project = ITProject.objects.create(
        organization=a.org,
        name="2027年政务服务系统升级",
        year=2027,
        budget_amount=100,
        created_by=a.admin,
        state=ITProject.State.SUBMITTED,
    )
    url = reverse("filing:project", args=[project.pk])
    page = client_for(city.reviewer).get(url).content.decode()
    assert "尚无已发布的评估结果" in page or "No published evaluation yet." in page
    services.run_publish(run=run, acting_user=city.reviewer)
    page = client_for(city.reviewer).get(url).content.decode()
    assert "77.00" in page and run.plan.name in page
