"""Models of authorization.interop (imported by authorization/models.py).

- `DatasetIdentity`: the stable UUID a resource of the open catalog has in the CKAN API (`id`)
  and in its DCAT IRI. CKAN wants an `id` that never changes, while a resource's code changes
  when it is reclassified; the UUID is derived from the resource's primary key
  (`identity_uuid`), so a lost row is made again with the same value, and stored so that
  `sort=id asc` (the CKAN harvester's paging order) is an indexed SQL order.
- `DistributionIdentity`: the stable UUID of each CKAN resource (a distribution: a built file
  or the open-data API) of a dataset, `distribution_uuid(dataset UUID, format)`, stored with an
  index so that `resource_show` finds it without deriving every dataset's (one row per
  resource and format of `DISTRIBUTION_FORMATS`, made with the dataset identity whether or
  not the file exists yet: `resource_show` checks that it does and is open).
"""

from __future__ import annotations

import hashlib
import uuid

from django.db import models
from django.utils.translation import pgettext_lazy

from catalog.models import Resource

# The namespace of this platform's dataset identities (uuid5 of "resource/<pk>").
IDENTITY_NAMESPACE = uuid.UUID("6f0b5a8e-3c1d-5b7a-9e2f-4a1c8d7e2b90")


# The formats a dataset's distributions can have: the open-data files', then the API.
DISTRIBUTION_FORMATS = ("csv", "xlsx", "json", "api")


def identity_uuid(resource_id: int) -> uuid.UUID:
    return uuid.uuid5(IDENTITY_NAMESPACE, f"resource/{resource_id}")


def distribution_uuid(dataset_uuid, fmt: str) -> str:
    """uuid5(dataset UUID, format), computed without building UUID objects (a page of
    package_search derives hundreds when identities are missing)."""
    ns = (
        dataset_uuid.bytes if isinstance(dataset_uuid, uuid.UUID) else uuid.UUID(dataset_uuid).bytes
    )
    h = bytearray(hashlib.sha1(ns + fmt.encode(), usedforsecurity=False).digest()[:16])
    h[6] = (h[6] & 0x0F) | 0x50
    h[8] = (h[8] & 0x3F) | 0x80
    x = h.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


class DatasetIdentity(models.Model):
    resource = models.OneToOneField(
        Resource,
        verbose_name=pgettext_lazy("interop", "resource"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="dataset_identity",
    )
    uuid = models.UUIDField(pgettext_lazy("interop", "dataset UUID"), unique=True)

    class Meta:
        verbose_name = pgettext_lazy("interop", "dataset identity")
        verbose_name_plural = pgettext_lazy("interop", "dataset identities")

    def __str__(self) -> str:
        return str(self.uuid)


class DistributionIdentity(models.Model):
    uuid = models.UUIDField(pgettext_lazy("interop", "distribution UUID"), primary_key=True)
    resource = models.ForeignKey(
        Resource,
        verbose_name=pgettext_lazy("interop", "resource"),
        on_delete=models.CASCADE,
        related_name="distribution_identities",
    )
    format = models.CharField(pgettext_lazy("interop", "format"), max_length=8)

    class Meta:
        verbose_name = pgettext_lazy("interop", "distribution identity")
        verbose_name_plural = pgettext_lazy("interop", "distribution identities")
        constraints = [
            models.UniqueConstraint(
                fields=["resource", "format"], name="interop_distribution_format"
            )
        ]

    def __str__(self) -> str:
        return str(self.uuid)
