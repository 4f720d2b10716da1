"""The city dashboard: SVG charts drawn on the server, for the city bureau and auditors only."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from supervision.evaluation import services
from supervision.evaluation.models import AgencyScore, EvaluationRun
from supervision.rectification import services as orders
from tests.catalog.factories import make_agency, make_city_bureau
from tests.conftest import client_for


def test_the_dashboard_draws_trend_ranking_and_orders(db, django_assert_max_num_queries):
    city = make_city_bureau()
    agencies = [make_agency() for _ in range(3)]
    plan = services.plan_create(
        name="趋势",
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 12, 31),
        weights={"catalog_coverage": 100},
        acting_user=city.reviewer,
    )
    for n, as_of in enumerate((dt.date(2026, 3, 31), dt.date(2026, 6, 30)), start=1):
        run = EvaluationRun.objects.create(
            plan=plan, number=n, as_of=as_of, created_by=city.reviewer
        )
        services.run_compute(run_id=run.pk)
        for i, a in enumerate(agencies):
            AgencyScore.objects.filter(run=run, agency=a.org).update(computed=40 + 20 * i + n)
        services._rank(run.pk)
        services.run_publish(run=run, acting_user=city.reviewer)
    orders.order_issue(
        agency=agencies[0].org, case="other", facts="x", deadline_days=3, acting_user=city.reviewer
    )
    c = client_for(city.reviewer)
    with django_assert_max_num_queries(20):
        resp = c.get(reverse("supervision:dashboard"))
    html = resp.content.decode()
    assert resp.status_code == 200
    # Trend, ranking, orders by state and this year's inspection findings by severity.
    assert html.count('class="chart ') == 4 and "<polyline" in html
    assert " style=" not in html and "<script>" not in html
    assert "2026-03-31" in html and "2026-06-30" in html
    assert client_for(agencies[0].admin).get(reverse("supervision:dashboard")).status_code == 404


def test_the_dashboard_says_what_to_do_when_empty(db):
    city = make_city_bureau()
    resp = client_for(city.reviewer).get(reverse("supervision:dashboard"))
    assert resp.status_code == 200 and 'class="chart ' in resp.content.decode()
