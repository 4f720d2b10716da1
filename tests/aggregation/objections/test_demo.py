"""The objection demo data: three objections of demo_requester about 地名信息 in different
states (submitted, agreed, rejected), row objections naming rows of the loaded table;
idempotent."""

from __future__ import annotations

import os

from django.core.management import call_command

from aggregation.models import Objection
from aggregation.objections.demo import AGREED, REJECTED, SUBMITTED

from .conftest import client


def seed() -> None:
    call_command("seed_demo", only=["objections"], stdout=open(os.devnull, "w"))  # noqa: SIM115


def test_demo_objections_in_different_states_once(db):
    seed()
    by_description = {o.description: o for o in Objection.objects.all()}
    assert by_description[SUBMITTED].state == Objection.State.SUBMITTED
    assert by_description[SUBMITTED].row_keys == [["420102002"]]
    assert by_description[SUBMITTED].changed_rows["before"][0][1] == "黎黄陂路"
    agreed = by_description[AGREED]
    assert agreed.state == Objection.State.AGREED and agreed.outcome == "correct"
    assert by_description[REJECTED].state == Objection.State.REJECTED
    assert {o.requester.username for o in by_description.values()} == {"demo_requester"}
    staff = agreed.resource.provider.users.get(username="demo_agency_staff")
    page = client(staff).get(f"/objections/{agreed.pk}/")
    assert page.status_code == 200 and "report_form" in page.context

    seed()
    assert Objection.objects.count() == 3
