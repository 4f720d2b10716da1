"""An IT project is accepted only when each listed resource has a working channel (Art. 11:
its resources catalogued and aggregated)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.translation import gettext

from aggregation import services
from catalog.filing import services as filing
from tests.aggregation.factories import make_channel
from tests.catalog.factories import make_city_bureau

pytestmark = pytest.mark.django_db


def test_acceptance_waits_for_a_channel_that_has_loaded_data():
    setup = make_channel(activate=False)
    agency, resource = setup.agency, setup.resource
    bureau = make_city_bureau()
    project = filing.project_create(
        organization=agency.org,
        fields={
            "name": "智慧民政二期",
            "year": 2026,
            "budget_amount": "1200000.00",
            "description": "建设养老服务数据归集。",
        },
        acting_user=agency.staff,
    )
    filing.project_entry_add(project=project, resource=resource, acting_user=agency.staff)
    filing.project_transition(project=project, action="submit", acting_user=agency.staff)
    filing.project_transition(project=project, action="approve", acting_user=bureau.reviewer)

    with pytest.raises(filing.AcceptanceRefused) as exc:
        filing.project_transition(
            project=project, action="submit_acceptance", acting_user=agency.staff
        )
    # The sharing part adds its own condition ("has a supply path", tests/authorization).
    assert gettext("no active channel has loaded its data yet") in [
        m.reason for m in exc.value.missing
    ]

    # Activate the channel and load a file: now the project may be submitted for acceptance.
    from tests.aggregation.factories import assess_channel

    assess_channel(setup.channel)
    channel = services.channel_activate(channel=setup.channel, acting_user=agency.staff)
    batch = services.batch_upload(
        channel=channel,
        uploaded=SimpleUploadedFile("d.csv", "编号,姓名\nA1,张三\n".encode()),
        acting_user=agency.staff,
    )
    assert services.batch_run(batch_id=batch.pk).status == "succeeded"
    project = filing.project_transition(
        project=project, action="submit_acceptance", acting_user=agency.staff
    )
    assert project.state == "acceptance_submitted"
