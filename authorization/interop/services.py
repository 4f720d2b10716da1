"""Writes of authorization.interop: only the stable dataset identities (everything else it
serves is read-only)."""

from __future__ import annotations

from .models import DatasetIdentity, identity_uuid


def identity_ensure(resource_id: int) -> None:
    """Give the resource its stable UUID if it has none (on every publication)."""
    DatasetIdentity.objects.bulk_create(
        [DatasetIdentity(resource_id=resource_id, uuid=identity_uuid(resource_id))],
        ignore_conflicts=True,
    )


def identities_backfill() -> int:
    """Give every resource without one its UUID (resources written by bulk loads that bypass
    the services, e.g. the benchmarks' generator). Returns how many were added."""
    from catalog.models import Resource

    ids = list(Resource.objects.filter(dataset_identity__isnull=True).values_list("pk", flat=True))
    for start in range(0, len(ids), 5000):
        DatasetIdentity.objects.bulk_create(
            [
                DatasetIdentity(resource_id=pk, uuid=identity_uuid(pk))
                for pk in ids[start : start + 5000]
            ],
            ignore_conflicts=True,
        )
    return len(ids)
