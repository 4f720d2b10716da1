"""Demo revenue of 武汉数据集团有限公司 (demo_operator): the last full quarter, recorded by the
operator and distributed by the city bureau. When the operator holds operation grants the
distribution follows the rows delivered; otherwise (no authorized operation in the demo yet)
it uses fixed weights over the provider agencies of the sharing demo's grants. Idempotent:
one revenue per period."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from authorization.sharing.models import Grant
from wuhan_pdr.accounts.models import Organization, User
from wuhan_pdr.kernel.demo import Seeder, register_seeder

from . import services
from .models import Distribution, OperatorRevenue
from .selectors import operation_usage

AMOUNT = Decimal("1286453.27")


def _last_quarter(today: dt.date) -> tuple[dt.date, dt.date]:
    first_month = (today.month - 1) // 3 * 3 + 1
    end = dt.date(today.year, first_month, 1) - dt.timedelta(days=1)
    start = dt.date(end.year, (end.month - 1) // 3 * 3 + 1, 1)
    return start, end


def seed_revenue(context: dict) -> None:
    operator_user = User.objects.filter(username="demo_operator").first()
    reviewer = User.objects.filter(username="demo_city_reviewer").first()
    if operator_user is None or reviewer is None or operator_user.organization is None:
        return
    operator = operator_user.organization
    start, end = _last_quarter(timezone.localdate())
    revenue = OperatorRevenue.objects.filter(
        operator=operator, period_start=start, period_end=end
    ).first()
    if revenue is None:
        revenue = services.revenue_record(
            operator=operator,
            period_start=start,
            period_end=end,
            amount=AMOUNT,
            note="数据产品服务收入(季度汇总,含数据核验、信用评估服务)",
            acting_user=operator_user,
        )
    if Distribution.objects.filter(revenue=revenue).exists():
        return
    usage = operation_usage(operator, start, end)
    if any(u.rows for u in usage):
        services.distribution_set(
            revenue=revenue,
            government_ratio=Decimal("0.3000"),
            rule=Distribution.Rule.ROWS,
            acting_user=reviewer,
        )
        return
    providers = list(
        Organization.objects.filter(
            pk__in=Grant.objects.values("resource__provider_id"),
            kind__in=Organization.AGENCY_KINDS,
        ).order_by("pk")[:6]
    )
    if not providers:
        return  # the statements say honestly that nothing is distributed yet
    services.distribution_set(
        revenue=revenue,
        government_ratio=Decimal("0.3000"),
        rule=Distribution.Rule.WEIGHTS,
        weights={a.pk: Decimal(3 if i == 0 else 1) for i, a in enumerate(providers)},
        acting_user=reviewer,
    )


register_seeder(Seeder(name="operation_revenue", order=96, run=seed_revenue))
