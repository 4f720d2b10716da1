"""The sharing demo: requests and grants in every state, the police grant answering to the
fixed demo key, and seeding twice changes nothing."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from authorization.sharing.models import Grant, ShareRequest
from authorization.sharing.services import grant_authenticate

pytestmark = pytest.mark.django_db

KEY = "pdr_de0000000001_demo-supply-key-for-the-readme-only-0001"


def test_demo_has_every_state_and_a_working_police_key(settings):
    settings.DEMO_SUPPLY_KEY = KEY
    call_command("seed_demo", "--only", "sharing", verbosity=0)
    counts = (ShareRequest.objects.count(), Grant.objects.count())
    assert set(ShareRequest.objects.values_list("state", flat=True)) == set(
        ShareRequest.State.values
    )
    assert set(Grant.objects.values_list("state", flat=True)) == set(Grant.State.values)
    assert ShareRequest.objects.filter(overdue_flagged_at__isnull=False).exists()
    assert Grant.objects.filter(flagged_at__isnull=False).exists()
    grant = grant_authenticate(KEY, client_ip="127.0.0.1")
    assert grant.grantee.name == "武汉市公安局"
    assert grant.resource.provider.name == "武汉市民政局"
    assert grant.resource.datastore.row_count > 0
    call_command("seed_demo", "--only", "sharing", verbosity=0)
    assert (ShareRequest.objects.count(), Grant.objects.count()) == counts
