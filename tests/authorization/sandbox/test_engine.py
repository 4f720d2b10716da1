"""The aggregate builder's engine (issue #14 item 6): suppression, noise, budget, the zone's
definer function."""

from __future__ import annotations

import pytest

from authorization.sandbox import engine
from authorization.sandbox.models import SandboxQuery
from security.audit.models import AuditEvent
from tests.authorization.sandbox.factories import make_world


@pytest.fixture
def world(db):
    return make_world()


def run(world, spec, epsilon=1.0):
    return engine.query_run(
        session=world.session,
        resource=world.setup.resource,
        spec=spec,
        epsilon=epsilon,
        acting_user=world.requester,
    )


def test_a_small_group_is_suppressed_and_large_ones_released(world):
    query = run(world, {"measure": "count", "groups": ["age"]})
    released = {row[0]: row[1] for row in query.result["rows"]}
    assert set(released) == {"30", "40"}
    assert "50" not in str(query.result["rows"])
    assert query.result["suppressed"] == 1
    # Noisy, but near the truth (scale 1 at epsilon 1).
    assert abs(released["30"] - 25) < 15 and abs(released["40"] - 20) < 15
    assert isinstance(released["30"], int)


def test_the_query_is_recorded_with_its_parameters_and_budget(world):
    query = run(world, {"measure": "sum", "value": "amount", "groups": ["age"]}, epsilon=0.5)
    world.session.refresh_from_db()
    assert world.session.epsilon_spent == pytest.approx(0.5)
    event = AuditEvent.objects.filter(action="sandbox.query").latest("pk")
    assert event.details["query"]["measure"] == "sum"
    assert event.details["epsilon"] == 0.5
    assert event.details["rows"] == 48
    assert event.details["groups_suppressed"] == 1
    assert SandboxQuery.objects.get(pk=query.pk).epsilon == 0.5
