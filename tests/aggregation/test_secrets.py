"""A channel's credential is stored sealed, never in clear, and the fetchers read it."""

from __future__ import annotations

import pytest

from aggregation import services
from aggregation.channels import channel_secret
from aggregation.models import Channel, ChannelKind
from tests.aggregation.factories import make_channel

pytestmark = pytest.mark.django_db


def test_the_password_is_sealed_at_rest_and_opened_for_the_fetcher():
    setup = make_channel(kind=ChannelKind.DB_EXTRACT, activate=False)
    services.channel_update(
        channel=setup.channel, secret="Src-Db-P@ss", acting_user=setup.agency.staff
    )
    stored = Channel.objects.values_list("secret", flat=True).get(pk=setup.channel.pk)
    assert "Src-Db-P@ss" not in stored and stored.startswith("sealed1:")
    assert channel_secret(Channel.objects.get(pk=setup.channel.pk)) == "Src-Db-P@ss"
    # History never records the credential.
    assert not any(
        "Src-Db-P@ss" in str(getattr(h, "secret", "")) for h in setup.channel.history.all()
    )
