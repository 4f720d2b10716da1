"""The registration demo (issue #16, item 5): registrations in every state, and one
certificate, 养老机构信息's open data, resting on the evidence demo's deposit of its open
distribution: a visitor downloads the deposited CSV from the certificate page and it matches the
deposit's digest. Seeding again changes nothing."""

from __future__ import annotations

import hashlib
import os

from django.core.management import call_command
from django.test import Client

from registration.applications.models import Registration
from registration.evidence.models import Deposit


def seed():
    with open(os.devnull, "w") as devnull:
        call_command(
            "seed_demo",
            only=["accounts", "catalog", "opendata", "evidence", "registrations"],
            stdout=devnull,
        )


def test_the_demo_certificate_offers_the_deposited_open_file(db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    seed()
    states = set(Registration.objects.values_list("state", flat=True))
    assert states == set(Registration.State.values)
    registration = Registration.objects.get(
        name="养老机构信息", kind=Registration.Kind.OPEN_DATA, registrant__name="武汉市民政局"
    )
    assert registration.state == Registration.State.REGISTERED and registration.code
    assert registration.created_by.username == "demo_agency_staff"
    evidence = Deposit.objects.get(
        resource=registration.resource, kind=Deposit.Kind.OPEN_DATA, state=Deposit.State.DONE
    )
    assert registration.deposit_id == evidence.pk  # the evidence demo's own deposit

    anyone = Client()
    page = anyone.get(f"/registration/certificate/{registration.code}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "deposit-data-download" in html and evidence.data_sha256 in html
    href = f"/registration/evidence/d/{evidence.public_id}/data/{evidence.data_name}"
    assert href in html
    data = b"".join(anyone.get(href).streaming_content)
    assert hashlib.sha256(data).hexdigest() == evidence.data_sha256

    before = list(Registration.objects.order_by("pk").values_list("pk", "state", "deposit_id"))
    seed()
    after = list(Registration.objects.order_by("pk").values_list("pk", "state", "deposit_id"))
    assert after == before
