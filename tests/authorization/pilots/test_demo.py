"""The demos of revenue and pilots: demo_operator's quarter distributed to the cent, a call
with two proposals (one selected with a trial) and an open call; seeding twice changes
nothing."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from authorization.pilots.models import PilotCall, PilotTrial, Proposal
from authorization.pilots.selectors import trial_for
from authorization.revenue.models import Distribution, OperatorRevenue

pytestmark = pytest.mark.django_db


def test_demo_revenue_and_pilots_are_seeded_once():
    call_command("seed_demo", "--only", "pilots", verbosity=0)
    counts = (
        OperatorRevenue.objects.count(),
        Distribution.objects.count(),
        PilotCall.objects.count(),
        Proposal.objects.count(),
    )
    revenue = OperatorRevenue.objects.get(operator__name="武汉数据集团有限公司")
    d = revenue.distribution
    assert d.government_amount + d.operator_amount == revenue.amount
    assert sum(s.amount for s in d.shares.all()) == d.government_amount
    assert d.shares.exists()
    assert counts[2:] == (2, 2)
    assert set(Proposal.objects.values_list("state", flat=True)) == {"selected", "not_selected"}
    trial = PilotTrial.objects.get()
    assert trial_for(trial.organization) == trial
    assert trial.organization.name == "武汉数据集团有限公司"
    call_command("seed_demo", "--only", "pilots", verbosity=0)
    assert (
        OperatorRevenue.objects.count(),
        Distribution.objects.count(),
        PilotCall.objects.count(),
        Proposal.objects.count(),
    ) == counts
