"""What aggregation adds to other chapters' gates: an IT project's resources must have a
working channel before acceptance (Art. 11: catalogued, aggregated and shared)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from .models import Batch, Channel


def resource_has_working_channel(resource) -> list[str]:
    """Missing: an active channel of the resource that has loaded data at least once."""
    working = Channel.objects.filter(
        resource=resource,
        state=Channel.State.ACTIVE,
        batches__status=Batch.Status.SUCCEEDED,
    ).exists()
    return [] if working else [_("no active channel has loaded its data yet")]
