"""Art. 22 on the disclosure: an operator whose pilot was selected shows its priced-but-free
trial (price recorded, fee waived until a date) on its public page, and not after that date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from authorization.pilots import services as pilots
from tests.authorization.pilots.conftest import propose

from .conftest import apply, approve


def _selected_pilot(operator, reviewer, until):
    call = pilots.call_publish(
        title="交通出行试点场景征集",
        area="交通出行",
        requirements="说明数据需求与安全措施。",
        deadline=timezone.now() + dt.timedelta(days=10),
        acting_user=reviewer,
    )
    proposal = propose(call, operator)
    pilots.call_move(call=call, transition="close_submissions", acting_user=reviewer)
    pilots.proposal_score(
        proposal=proposal,
        scores={"value": 20, "feasibility": 20, "security": 20, "innovation": 20},
        comment="可行",
        acting_user=reviewer,
    )
    return pilots.proposal_select(
        proposal=proposal,
        service="出行导航接口",
        price=Decimal("0.30"),
        unit="元/次",
        waived_until=until,
        acting_user=reviewer,
    )


def test_the_operator_page_shows_a_running_trial(client, resource, bureau, operator, caps):
    approve(apply(operator, [resource]), bureau.reviewer)
    url = reverse("disclosures:operator", args=[operator.organization_id])
    assert "出行导航接口" not in client.get(url).content.decode()
    until = timezone.localdate() + dt.timedelta(days=60)
    _selected_pilot(operator, bureau.reviewer, until)
    body = client.get(url).content.decode()
    assert "出行导航接口" in body and "0.30" in body and until.strftime("%Y-%m-%d") in body
