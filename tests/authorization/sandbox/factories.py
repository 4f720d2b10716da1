"""Builders for sandbox tests: a restricted-zone resource with rows loaded through the real
loader, a government requester, and a session submitted and approved through the services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from aggregation import services as agg
from aggregation.models import Batch
from authorization.sandbox import services
from authorization.sandbox.models import SandboxSession
from authorization.sandbox.selectors import bounds_key
from tests.aggregation.factories import Setup, items_people, make_channel
from tests.catalog.factories import Agency, make_agency

HEADER = "编号,姓名,年龄,出生日期,金额,更新时间\n"


def masked_items() -> list[dict]:
    items = items_people()
    items[1]["masking_rule"] = "保留首尾"  # full_name: masked, never grouped or filtered
    return items


def rows_csv(rows: list[tuple[int, float]], *, start: int = 1) -> str:
    """(age, amount) per row; keys A0001..."""
    return HEADER + "".join(
        f"A{i:04d},姓名{i},{age},1990-01-{1 + i % 28:02d},{amount:.2f},2025-01-02 08:00:00\n"
        for i, (age, amount) in enumerate(rows, start=start)
    )


def load_rows(setup: Setup, rows: list[tuple[int, float]]) -> Batch:
    batch = agg.batch_upload(
        channel=setup.channel,
        uploaded=SimpleUploadedFile("data.csv", rows_csv(rows).encode()),
        acting_user=setup.agency.staff,
    )
    batch = agg.batch_run(batch_id=batch.pk)
    assert batch.status == Batch.Status.SUCCEEDED, batch.error if hasattr(batch, "error") else ""
    return batch


# 25 people aged 30, 20 aged 40, 3 aged 50 (a small group).
STANDARD = (
    [(30, 1000.0 + i) for i in range(25)]
    + [(40, 2000.0 + i) for i in range(20)]
    + [(50, 3000.0 + i) for i in range(3)]
)


def make_resource(rows=None, *, grade: str = "L3") -> Setup:
    setup = make_channel(items=masked_items(), grade=grade, name="沙箱测试通道")
    load_rows(setup, STANDARD if rows is None else rows)
    return setup


@dataclass
class World:
    setup: Setup
    requester_agency: Agency
    session: SandboxSession

    @property
    def requester(self):
        return self.requester_agency.staff

    @property
    def officer(self):
        return self.setup.agency.admin


def submit(setup: Setup, requester, **kw) -> SandboxSession:
    today = timezone.localdate()
    return services.session_submit(
        resources=[setup.resource],
        purpose=kw.get("purpose", "分析各年龄段保障金额分布,用于政策评估。"),
        valid_from=kw.get("valid_from", today),
        valid_until=kw.get("valid_until", today + dt.timedelta(days=30)),
        acting_user=requester,
    )


def approve(session: SandboxSession, officer, *, epsilon_total=5.0, bounds=None, resource=None):
    bounds = (
        bounds
        if bounds is not None
        else {
            bounds_key(resource.pk, "amount"): [0, 5000],
            bounds_key(resource.pk, "age"): [0, 120],
        }
    )
    return services.session_approve(
        session=session,
        epsilon_total=epsilon_total,
        bounds=bounds,
        acting_user=officer,
    )


def make_world(rows=None, *, epsilon_total=5.0, grade="L3") -> World:
    setup = make_resource(rows, grade=grade)
    requester_agency = make_agency()
    session = submit(setup, requester_agency.staff)
    session = approve(
        session, setup.agency.admin, epsilon_total=epsilon_total, resource=setup.resource
    )
    return World(setup=setup, requester_agency=requester_agency, session=session)
