"""The demo catalog feedback: one report of demo_requester in each state of the Art. 14
workflow, each moved by the people who may, with its timeline; seeding again adds nothing."""

from __future__ import annotations

import os

import pytest
from django.core.management import call_command
from django.test import Client

from catalog.demo import FEEDBACK
from catalog.models import CatalogFeedback
from wuhan_pdr.accounts.models import User
from wuhan_pdr.kernel.workflow import events_for

pytestmark = pytest.mark.django_db
F = CatalogFeedback.State


def seed() -> None:
    call_command("seed_demo", only=["catalog_feedback"], stdout=open(os.devnull, "w"))  # noqa: SIM115


def test_demo_feedback_shows_every_state_of_the_workflow_once_seeded():
    seed()
    requester = User.objects.get(username="demo_requester")
    reports = list(CatalogFeedback.objects.filter(requester=requester))
    assert len(reports) == len(FEEDBACK)
    states = {fb.state for fb in reports}
    assert states == {s for s in F.values if s != F.ANSWERED}

    by_state = {fb.state: fb for fb in reports if fb.provider.name == "武汉市民政局"}
    adjusted = by_state[F.ADJUSTED]
    assert adjusted.adjusted_version is not None and adjusted.adjusted_version.number == 2
    assert [e.transition for e in events_for(adjusted)] == [
        "propose_adjustment",
        "agree_adjustment",
        "adjust",
    ]
    assert [e.transition for e in events_for(by_state[F.RETURNED])] == [
        "propose_no_change",
        "send_back",
    ]
    assert by_state[F.RETURNED].bureau_comment
    assert by_state[F.REJECTED].resource is None and by_state[F.REJECTED].rejection_reason
    # The district bureau of 江岸区 has a proposal of its district's agency to agree on.
    district = CatalogFeedback.objects.get(provider__name="武汉市江岸区民政局")
    assert district.state == F.ADJUSTMENT_PROPOSED
    reviewer = User.objects.get(username="demo_district_reviewer")
    c = Client()
    c.force_login(reviewer)
    page = c.get(f"/catalog/feedback/{district.pk}/")
    assert {t.name for t in page.context["actions"]} == {"agree_adjustment", "send_back", "reject"}
    # Each demo role sees its page of each report it may see.
    c.force_login(requester)
    for fb in reports:
        assert c.get(f"/catalog/feedback/{fb.pk}/").status_code == 200

    seed()
    assert CatalogFeedback.objects.filter(requester=requester).count() == len(FEEDBACK)
