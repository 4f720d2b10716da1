"""Writes of authorization.interop: only the stable dataset and distribution identities
(everything else it serves is read-only)."""

from __future__ import annotations

from .models import (
    DISTRIBUTION_FORMATS,
    DatasetIdentity,
    DistributionIdentity,
    distribution_uuid,
    identity_uuid,
)


def _distributions(resource_id: int, dataset_uuid) -> list[DistributionIdentity]:
    return [
        DistributionIdentity(
            uuid=distribution_uuid(dataset_uuid, fmt), resource_id=resource_id, format=fmt
        )
        for fmt in DISTRIBUTION_FORMATS
    ]


def identity_ensure(resource_id: int) -> None:
    """Give the resource its stable UUID and its distributions theirs if it has none (on
    every publication)."""
    # A dataset's UUID is always derived from its resource's key (never assigned), so its
    # distributions' are derived here without reading it back.
    dataset_uuid = identity_uuid(resource_id)
    DatasetIdentity.objects.bulk_create(
        [DatasetIdentity(resource_id=resource_id, uuid=dataset_uuid)], ignore_conflicts=True
    )
    DistributionIdentity.objects.bulk_create(
        _distributions(resource_id, dataset_uuid), ignore_conflicts=True
    )


def identities_backfill() -> int:
    """Give every resource without one its UUID, and every dataset identity without them its
    distributions' (resources written by bulk loads that bypass the services, e.g. the
    benchmarks' generator). Returns how many dataset identities were added."""
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
    missing = list(
        DatasetIdentity.objects.filter(resource__distribution_identities__isnull=True)
        .values_list("resource_id", "uuid")
        .iterator(chunk_size=5000)
    )
    for start in range(0, len(missing), 2000):
        DistributionIdentity.objects.bulk_create(
            [d for pk, u in missing[start : start + 2000] for d in _distributions(pk, u)],
            ignore_conflicts=True,
        )
    return len(ids)
