"""Operation revenue and its distribution (Art. 21): rows and calls come from the
platform's counters of the operator's operation grants; every level adds up to the cent;
adjustments need a reason and keep their history; an agency sees its own statement only;
the Excel export keeps formula-like text as text; forms survive naughty strings."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from authorization.revenue import services
from authorization.revenue.models import Distribution, DistributionShare, OperatorRevenue
from authorization.revenue.selectors import operation_usage
from authorization.sharing.services import grant_issue, usage_record
from tests.accounts.factories import UserFactory
from tests.conftest import client_for
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.errors import AccessDenied, DomainError

pytestmark = pytest.mark.django_db

START = dt.date(2026, 1, 1)
END = dt.date(2026, 3, 31)


def _revenue(world, amount="100.00", start=START, end=END, user=None):
    return services.revenue_record(
        operator=world.operator,
        period_start=start,
        period_end=end,
        amount=Decimal(amount),
        acting_user=user or world.operator_user,
    )


def _use(world, rows=(100, 200, 700), calls=(1, 1, 1), day=dt.date(2026, 2, 1)):
    for grant, r, c in zip(world.grants, rows, calls, strict=True):
        usage_record(grant, rows=r, calls=c, day=day)


def test_usage_counts_only_operation_grants_within_the_period(world):
    _use(world)
    usage_record(world.grants[0], rows=5000, calls=9, day=dt.date(2025, 12, 31))  # before
    # A share-request grant of the same resource to the operator does not count.
    other, _k = grant_issue(
        resource=world.grants[0].resource,
        grantee=world.operator,
        items={i.pk: "clear" for i in world.grants[0].resource.published_version.items.all()},
        origin="share_request",
        valid_until=timezone.now() + dt.timedelta(days=30),
        acting_user=world.bureau.reviewer,
    )
    usage_record(other, rows=999, calls=99, day=dt.date(2026, 2, 2))
    usage = {u.agency.pk: (u.rows, u.calls) for u in operation_usage(world.operator, START, END)}
    assert usage == {
        world.agencies[0].org.pk: (100, 1),
        world.agencies[1].org.pk: (200, 1),
        world.agencies[2].org.pk: (700, 1),
    }


def test_distribution_by_rows_adds_up_at_every_level(world):
    _use(world, rows=(1, 1, 1))
    revenue = _revenue(world, "0.03")
    d = services.distribution_set(
        revenue=revenue,
        government_ratio=Decimal("0.3333"),
        rule="rows",
        acting_user=world.bureau.reviewer,
    )
    assert d.government_amount + d.operator_amount == Decimal("0.03")
    assert d.government_amount == Decimal("0.01")
    amounts = list(d.shares.order_by("agency_id").values_list("amount", flat=True))
    assert amounts == [Decimal("0.01"), Decimal("0.00"), Decimal("0.00")]


def test_a_billion_by_calls_over_the_counted_calls(world):
    _use(world, calls=(3, 3, 7))
    revenue = _revenue(world, "1000000000")
    d = services.distribution_set(
        revenue=revenue,
        government_ratio=Decimal("0.5"),
        rule="calls",
        acting_user=world.bureau.reviewer,
    )
    assert d.government_amount == Decimal("500000000.00")
    shares = list(d.shares.order_by("agency_id"))
    assert sum(s.amount for s in shares) == d.government_amount
    assert [s.basis for s in shares] == [3, 3, 7]
    # 500,000,000.00 x 3/13 = 115,384,615.3846...: two of them, plus the leftover cent.
    assert [s.amount for s in shares] == [
        Decimal("115384615.39"),
        Decimal("115384615.38"),
        Decimal("269230769.23"),
    ]


def test_zero_usage_is_refused_with_a_pointer_to_weights(world):
    revenue = _revenue(world)
    with pytest.raises(DomainError) as refused:
        services.distribution_set(
            revenue=revenue,
            government_ratio=Decimal("0.4"),
            rule="rows",
            acting_user=world.bureau.reviewer,
        )
    assert refused.value.field == "rule"
    assert not Distribution.objects.exists()


def test_fixed_weights_then_an_adjustment_with_a_reason_and_history(world):
    revenue = _revenue(world, "100.00")
    a, b, c = (x.org.pk for x in world.agencies)
    d = services.distribution_set(
        revenue=revenue,
        government_ratio=Decimal("1"),
        rule="weights",
        weights={a: 1, b: 1, c: 1},
        acting_user=world.bureau.reviewer,
    )
    assert sorted(d.shares.values_list("amount", flat=True)) == [
        Decimal("33.33"),
        Decimal("33.33"),
        Decimal("33.34"),
    ]
    with pytest.raises(DomainError) as refused:
        services.distribution_set(
            revenue=revenue,
            government_ratio=Decimal("0.5"),
            rule="weights",
            weights={a: 2, b: 1},
            acting_user=world.bureau.reviewer,
        )
    assert refused.value.field == "reason"
    d = services.distribution_set(
        revenue=revenue,
        government_ratio=Decimal("0.5"),
        rule="weights",
        weights={a: 2, b: 1},
        reason="丙单位数据质量不达标,本期不参与分配",
        acting_user=world.bureau.reviewer,
    )
    assert d.version == 2
    assert d.government_amount == Decimal("50.00") and d.operator_amount == Decimal("50.00")
    assert dict(d.shares.values_list("agency_id", "amount")) == {
        a: Decimal("33.33"),
        b: Decimal("16.67"),
    }
    assert d.history.count() == 2
    assert d.history.first().history_user == world.bureau.reviewer
    assert DistributionShare.history.filter(agency_id=c, history_type="-").exists()


def test_only_the_bureau_distributes_and_operators_record_their_own(world):
    revenue = _revenue(world)
    with pytest.raises(AccessDenied):
        services.distribution_set(
            revenue=revenue,
            government_ratio=Decimal("0.5"),
            rule="weights",
            weights={world.agencies[0].org.pk: 1},
            acting_user=world.operator_user,
        )
    other = UserFactory(organization=world.agencies[0].org, roles=[Role.OPERATOR])
    with pytest.raises(AccessDenied):
        _revenue(world, start=dt.date(2025, 1, 1), end=dt.date(2025, 3, 31), user=other)
    with pytest.raises(DomainError) as overlap:
        _revenue(world, start=dt.date(2026, 3, 1), end=dt.date(2026, 4, 30))
    assert overlap.value.field == "period_start"
    with pytest.raises(DomainError) as cents:
        _revenue(world, amount="1.001", start=dt.date(2025, 1, 1), end=dt.date(2025, 1, 31))
    assert cents.value.field == "amount"


def test_weights_go_to_agencies_only(world):
    revenue = _revenue(world)
    with pytest.raises(DomainError):
        services.distribution_set(
            revenue=revenue,
            government_ratio=Decimal("0.5"),
            rule="weights",
            weights={world.operator.pk: 1},
            acting_user=world.bureau.reviewer,
        )


@pytest.fixture
def distributed(world):
    revenue = _revenue(world, "999.99")
    services.distribution_set(
        revenue=revenue,
        government_ratio=Decimal("0.3"),
        rule="weights",
        weights={a.org.pk: 1 for a in world.agencies[:2]},
        acting_user=world.bureau.reviewer,
    )
    return revenue


def test_agency_a_never_sees_agency_b_statement(world, distributed):
    a, b = world.agencies[0], world.agencies[1]
    c = client_for(a.admin)
    assert c.get(reverse("revenue:statement", args=[a.org.pk])).status_code == 200
    assert c.get(reverse("revenue:statement", args=[b.org.pk])).status_code == 404
    assert c.get(reverse("revenue:statement_export", args=[b.org.pk])).status_code == 404
    assert c.get(reverse("revenue:statements")).url == reverse("revenue:statement", args=[a.org.pk])
    assert c.get(reverse("revenue:detail", args=[distributed.pk])).status_code == 404
    assert c.get(reverse("revenue:list")).status_code == 404
    # Agency staff (not the data officer) see no statement.
    assert client_for(a.staff).get(reverse("revenue:statement", args=[a.org.pk])).status_code == 404


def test_the_bureau_and_auditor_see_all_statements(world, distributed):
    for user in (world.bureau.reviewer, world.auditor):
        c = client_for(user)
        page = c.get(reverse("revenue:statements"))
        assert page.status_code == 200
        for agency in world.agencies[:2]:
            assert agency.org.name in page.content.decode()
            assert c.get(reverse("revenue:statement", args=[agency.org.pk])).status_code == 200


def test_operators_see_their_own_revenue_only(world, distributed):
    c = client_for(world.operator_user)
    assert c.get(reverse("revenue:detail", args=[distributed.pk])).status_code == 200
    assert c.get(reverse("revenue:distribute", args=[distributed.pk])).status_code == 404
    from tests.accounts.factories import OrganizationFactory
    from wuhan_pdr.accounts.models import Organization

    rival = UserFactory(
        organization=OrganizationFactory(kind=Organization.Kind.OPERATOR), roles=[Role.OPERATOR]
    )
    assert (
        client_for(rival).get(reverse("revenue:detail", args=[distributed.pk])).status_code == 404
    )


def test_anonymous_is_sent_to_login(world, distributed):
    from django.test import Client

    for url in (reverse("revenue:list"), reverse("revenue:detail", args=[distributed.pk])):
        assert Client().get(url).status_code == 302


def test_statement_export_keeps_formula_text_as_text(world):
    revenue = _revenue(world, "10.00")
    agency = world.agencies[0]
    services.distribution_set(
        revenue=revenue,
        government_ratio=Decimal("1"),
        rule="weights",
        weights={agency.org.pk: 1},
        acting_user=world.bureau.reviewer,
    )
    services.distribution_set(
        revenue=revenue,
        government_ratio=Decimal("1"),
        rule="weights",
        weights={agency.org.pk: 2},
        reason='=HYPERLINK("http://x")',
        acting_user=world.bureau.reviewer,
    )
    response = client_for(agency.admin).get(
        reverse("revenue:statement_export", args=[agency.org.pk])
    )
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    ws = wb.active
    row = [cell for cell in next(ws.iter_rows(min_row=2, max_row=2))]
    assert row[7].value == '=HYPERLINK("http://x")'
    assert row[7].data_type == "s"
    assert row[5].value == 10


def test_list_page_query_count_does_not_grow(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = client_for(world.bureau.reviewer)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(reverse("revenue:list")).status_code == 200
        return len(ctx)

    _revenue(world, start=dt.date(2014, 1, 1), end=dt.date(2014, 12, 31))
    c.get(reverse("revenue:list"))
    one = count()
    for year in range(2015, 2025):
        _revenue(world, start=dt.date(year, 1, 1), end=dt.date(year, 12, 31))
    assert count() == one


def test_the_distribution_page_through_the_form(world):
    _use(world)
    revenue = _revenue(world, "1000.00")
    c = client_for(world.bureau.reviewer)
    url = reverse("revenue:distribute", args=[revenue.pk])
    assert c.get(url).status_code == 200
    response = c.post(url, {"government_percent": "40", "rule": "rows"})
    assert response.status_code == 302
    d = Distribution.objects.get(revenue=revenue)
    assert d.government_amount == Decimal("400.00")
    assert list(d.shares.order_by("agency_id").values_list("amount", flat=True)) == [
        Decimal("40.00"),
        Decimal("80.00"),
        Decimal("280.00"),
    ]
    # An adjustment without a reason is shown on the form.
    page = c.post(url, {"government_percent": "50", "rule": "rows"})
    assert page.status_code == 200 and "reason" in page.context["form"].errors
    detail = c.get(reverse("revenue:detail", args=[revenue.pk]))
    assert "280.00" in detail.content.decode()


def test_forms_and_searches_survive_naughty_strings(world, naughty):
    c = client_for(world.bureau.reviewer)
    revenue = _revenue(world)
    for i, text in enumerate(naughty):
        assert c.get(reverse("revenue:list"), {"q": text, "year": text}).status_code == 200
        assert c.get(reverse("revenue:statements"), {"q": text}).status_code == 200
        if i % 4:
            continue
        r = c.post(
            reverse("revenue:create"),
            {
                "operator": world.operator.pk,
                "period_start": f"{2000 + i % 20}-01-01",
                "period_end": text,
                "amount": text,
                "note": text,
            },
        )
        assert r.status_code in (200, 302), repr(text)
        r = c.post(
            reverse("revenue:distribute", args=[revenue.pk]),
            {"government_percent": text, "rule": text, "reason": text},
        )
        assert r.status_code == 200, repr(text)
    assert OperatorRevenue.objects.count() == 1
