"""Every whole-number channel setting has a sane range (issue 11, job floods): a pull channel
cannot ask for a million retries or a timeout of eleven days, in the form or in the service,
and the error names the field and the range."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from aggregation import channels, services
from aggregation.models import Channel, ChannelKind
from tests.aggregation.factories import make_channel
from tests.catalog import factories as cf
from tests.messages import message
from wuhan_pdr.kernel.errors import DomainError

RANGE = "%(field)s must be a whole number from %(low)d to %(high)d."
PULL = {"url": "https://api.example.gov.cn/people"}
DB = {"engine": "postgresql", "host": "10.1.2.3", "port": 5432, "database": "agency", "user": "r"}

CASES = [
    (ChannelKind.API_PULL, PULL, "timeout_seconds", 1, 300),
    (ChannelKind.API_PULL, PULL, "max_retries", 0, 10),
    (ChannelKind.API_PULL, PULL, "page_size", 1, 10_000),
    (ChannelKind.API_PULL, PULL, "first_page", 0, 1),
    (ChannelKind.DB_EXTRACT, {**DB, "table": "people"}, "timeout_seconds", 1, 3600),
    (ChannelKind.DB_EXTRACT, {**DB, "table": "people"}, "port", 1, 65535),
]


def expected(kind, name, low, high) -> str:
    label = channels.SETTINGS[kind][name][0]
    return message(RANGE, field=str(label), low=low, high=high)


def test_every_whole_number_setting_has_its_own_bounds():
    for kind, spec in channels.SETTINGS.items():
        for name, (_label, _required, vkind) in spec.items():
            if vkind == "int":
                assert name in channels.BOUNDS.get(kind, {}), (kind, name)


@pytest.mark.parametrize(("kind", "base", "name", "low", "high"), CASES)
def test_the_service_refuses_values_outside_the_range_and_names_the_field(
    kind, base, name, low, high
):
    for bad in (low - 1, high + 1, 1_000_000, "1e9", "ten", True):
        with pytest.raises(DomainError) as refused:
            channels.clean_config(kind, {**base, name: bad})
        assert refused.value.field == name
        assert str(refused.value) == expected(kind, name, low, high)
    assert channels.clean_config(kind, {**base, name: low})[name] == low
    assert channels.clean_config(kind, {**base, name: str(high)})[name] == high


@pytest.mark.django_db
def test_a_channel_update_with_a_million_retries_is_refused():
    setup = make_channel(kind=ChannelKind.API_PULL, activate=False, config=PULL)
    with pytest.raises(DomainError) as refused:
        services.channel_update(
            channel=setup.channel,
            config={**PULL, "max_retries": 1_000_000, "timeout_seconds": 30},
            acting_user=setup.agency.staff,
        )
    assert refused.value.field == "max_retries"
    setup.channel.refresh_from_db()
    assert setup.channel.config.get("max_retries") == 3  # the default, unchanged


@pytest.mark.django_db
def test_the_form_shows_the_range_on_each_field_out_of_it():
    agency = cf.make_agency()
    resource = cf.make_published(agency, cf.make_city_bureau().reviewer).resource
    browser = Client()
    browser.force_login(agency.staff)
    url = reverse("aggregation:channel-create") + f"?resource={resource.pk}"
    response = browser.post(
        url,
        {
            "kind": ChannelKind.API_PULL,
            "name": "接口",
            "source_kind": "local",
            "access_requirements": "内网",
            "cfg_api_pull__url": PULL["url"],
            "cfg_api_pull__timeout_seconds": "1000000",
            "cfg_api_pull__max_retries": "11",
            "cfg_api_pull__page_size": "0",
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    for name, low, high in (("timeout_seconds", 1, 300), ("max_retries", 0, 10)):
        assert form.errors[f"cfg_api_pull__{name}"] == [
            expected(ChannelKind.API_PULL, name, low, high)
        ]
    assert form.errors["cfg_api_pull__page_size"] == [
        expected(ChannelKind.API_PULL, "page_size", 1, 10_000)
    ]
    assert not Channel.objects.filter(resource=resource).exists()
