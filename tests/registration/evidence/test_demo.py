"""The evidence demo (issue #16, item 5): an open, loaded demo resource deposited, its
distribution downloadable and verifiable; seeding again changes nothing."""

from __future__ import annotations

import hashlib
import os

from django.core.management import call_command
from django.test import Client

from registration.evidence import services
from registration.evidence.models import Deposit


def seed():
    with open(os.devnull, "w") as devnull:
        call_command("seed_demo", only=["accounts", "opendata", "evidence"], stdout=devnull)


def test_the_demo_deposits_an_open_resource_anyone_verifies(db):
    seed()
    deposits = list(Deposit.objects.order_by("pk"))
    kinds = sorted(d.kind for d in deposits)
    assert kinds == ["open_data", "resource_data"]
    assert all(d.state == Deposit.State.DONE for d in deposits)
    opened = next(d for d in deposits if d.kind == "open_data")
    assert opened.proof()["state"] == "included" and opened.proof()["verified"]
    data = b"".join(
        Client().get(f"/registration/evidence/d/{opened.public_id}/data/").streaming_content
    )
    assert hashlib.sha256(data).hexdigest() == opened.data_sha256
    assert all(services.deposit_check(d) == [] for d in deposits)
    seed()
    assert list(Deposit.objects.order_by("pk")) == deposits
