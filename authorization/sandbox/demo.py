"""Demo sandbox data (order 90, after the aggregation data at 50):

- demo_staff_police (武汉市公安局) holds an approved, current session on 武汉市民政局's
  最低生活保障对象信息 (restricted zone, 40 rows loaded by the extraction channel), approved by
  demo_agency_admin with clamping bounds for 月保障金额 and 保障人数, and two queries run in it
  (a total count, and a count by 保障人数 whose groups of 8 are all suppressed);
- demo_staff_hrss (人社局) waits for the reply to a session on 社会组织登记信息 (the provider's
  work queue shows it);
- demo_staff_edu (教育局) waits for a reply that is overdue (flagged by the daily job; the
  provider's and the city bureau's work queues show it), and demo_staff_police holds a session
  whose window has ended (closed by the daily job).

Everything goes through the services. Idempotent: a session is found by its requester and
purpose.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from catalog.models import Resource
from wuhan_pdr.accounts.models import User
from wuhan_pdr.kernel.demo import Seeder, register_seeder

from . import engine, selectors, services
from .models import SandboxSession

PROVIDER = "武汉市民政局"
RESOURCE = "最低生活保障对象信息"
PENDING_RESOURCE = "社会组织登记信息"
PURPOSE = (
    "分析全市低保家庭保障人数与月保障金额的分布,为困难群众救助政策评估提供统计依据(不导出明细)。"
)
PENDING_PURPOSE = "统计各类社会组织的注册资金分布,用于社会组织就业吸纳能力研究。"
OVERDUE_PURPOSE = "统计各区低保家庭户数,用于教育资助名额测算。"
ENDED_PURPOSE = "2025 年第四季度低保家庭保障人数统计(已结束)。"
BOUNDS = {"月保障金额": [0, 2000], "保障人数": [0, 10]}


def _user(username: str) -> User | None:
    return User.objects.filter(username=username).first()


def _resource(name: str) -> Resource | None:
    return (
        Resource.objects.filter(
            provider__name=PROVIDER, published_version__name=name, retired_at__isnull=True
        )
        .select_related("published_version")
        .first()
    )


def _session(requester, purpose, resource) -> SandboxSession:
    session = SandboxSession.objects.filter(requester=requester, purpose=purpose).first()
    if session is not None:
        return session
    today = timezone.localdate()
    return services.session_submit(
        resources=[resource],
        purpose=purpose,
        valid_from=today,
        valid_until=today + dt.timedelta(days=90),
        acting_user=requester,
    )


def seed_sandbox(context: dict) -> None:
    police, officer = _user("demo_staff_police"), _user("demo_agency_admin")
    resource = _resource(RESOURCE)
    if police is None or officer is None or resource is None:
        return
    if selectors.sandbox_table(resource) is None:
        return
    session = _session(police, PURPOSE, resource)
    if session.state == SandboxSession.State.SUBMITTED:
        labels = {i.label: i.column for i in selectors.sandbox_items(resource)}
        bounds = {
            selectors.bounds_key(resource.pk, labels[name]): pair
            for name, pair in BOUNDS.items()
            if name in labels
        }
        session = services.session_approve(
            session=session,
            epsilon_total=5.0,
            bounds=bounds,
            comment="同意在沙箱内开展统计分析,仅导出汇总结果。",
            acting_user=officer,
        )
    if session.is_current and not session.queries.exists():
        items = {i.label: i.column for i in selectors.sandbox_items(resource)}
        engine.query_run(
            session=session,
            resource=resource,
            spec={"measure": "count"},
            epsilon=0.5,
            acting_user=police,
        )
        if "保障人数" in items:
            engine.query_run(
                session=session,
                resource=resource,
                spec={"measure": "count", "groups": [items["保障人数"]]},
                epsilon=0.5,
                acting_user=police,
            )
    hrss, pending = _user("demo_staff_hrss"), _resource(PENDING_RESOURCE)
    if hrss is not None and pending is not None and selectors.sandbox_table(pending) is not None:
        _session(hrss, PENDING_PURPOSE, pending)
    seed_overdue_and_ended(police, officer, resource)


def seed_overdue_and_ended(police, officer, resource) -> None:
    """A session whose reply is overdue and one whose window has ended, through the daily job."""
    edu = _user("demo_staff_edu")
    if edu is not None:
        late = _session(edu, OVERDUE_PURPOSE, resource)
        if late.state == SandboxSession.State.SUBMITTED and late.overdue_flagged_at is None:
            SandboxSession.objects.filter(pk=late.pk).update(
                step_deadline=timezone.now() - dt.timedelta(days=2)
            )
            services.sessions_flag_overdue()
    ended = _session(police, ENDED_PURPOSE, resource)
    if ended.state == SandboxSession.State.SUBMITTED:
        ended = services.session_approve(
            session=ended,
            epsilon_total=2.0,
            bounds={},
            comment="同意,仅限季度统计。",
            acting_user=officer,
        )
    if ended.state == SandboxSession.State.APPROVED:
        today = timezone.localdate()
        SandboxSession.objects.filter(pk=ended.pk).update(
            valid_from=today - dt.timedelta(days=60), valid_until=today - dt.timedelta(days=1)
        )
        services.sessions_expire()


register_seeder(Seeder(name="sandbox", order=90, run=seed_sandbox))
