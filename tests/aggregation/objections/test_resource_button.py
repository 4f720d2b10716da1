"""The catalog entry's "Raise an objection" button is offered only to who may object to that
resource (aggregation registers it through catalog.actions), so no button leads to a 404."""

from __future__ import annotations

from django.urls import reverse

from .conftest import NOT_SHARED, ROWS, client, load, make_resource, people_items


def button_shown(user, resource) -> bool:
    response = client(user).get(reverse("catalog:resource", kwargs={"pk": resource.pk}))
    assert response.status_code == 200
    return reverse("objections:create") + f"?resource={resource.pk}" in response.content.decode()


def test_the_button_follows_the_right_to_object(world):
    not_shared = make_resource(NOT_SHARED, items=people_items())
    load(not_shared, ROWS)

    # Another agency sees the whole sharing catalog, 不予共享 included, but may not object to it.
    assert not button_shown(world.b_staff, not_shared.resource)
    response = client(world.b_staff).get(
        reverse("objections:create") + f"?resource={not_shared.resource.pk}"
    )
    assert response.status_code == 404

    # The provider and the bureau may.
    assert button_shown(not_shared.agency.staff, not_shared.resource)
    assert button_shown(world.reviewer, not_shared.resource)
    # An open, unconditionally shared resource: anyone signed in may.
    assert button_shown(world.requester, world.resource)
    assert button_shown(world.b_staff, world.resource)
