"""Models of authorization.interop (imported by authorization/models.py).

- `DatasetIdentity`: the stable UUID a resource of the open catalog has in the CKAN API (`id`)
  and in its DCAT IRI. CKAN wants an `id` that never changes, while a resource's code changes
  when it is reclassified; the UUID is derived from the resource's primary key
  (`identity_uuid`), so a lost row is made again with the same value, and stored so that
  `sort=id asc` (the CKAN harvester's paging order) is an indexed SQL order.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import pgettext_lazy

from catalog.models import Resource

# The namespace of this platform's dataset identities (uuid5 of "resource/<pk>").
IDENTITY_NAMESPACE = uuid.UUID("6f0b5a8e-3c1d-5b7a-9e2f-4a1c8d7e2b90")


def identity_uuid(resource_id: int) -> uuid.UUID:
    return uuid.uuid5(IDENTITY_NAMESPACE, f"resource/{resource_id}")


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
