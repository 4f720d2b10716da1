"""Catalog resources as the affected resources of security incidents: `security` keeps their
codes and asks the catalog, through this lookup, whether a code exists and what it is called."""

from __future__ import annotations

from django.urls import reverse

from security.incidents.registry import register_resource_lookup

from .models import Resource


def resource_by_code(code: str) -> tuple[str, str] | None:
    resource = (
        Resource.objects.select_related("published_version").filter(code=code.strip()).first()
    )
    if resource is None:
        return None
    version = resource.published_version or resource.versions.order_by("-pk").first()
    name = getattr(version, "name", "") or resource.code
    return name, reverse("catalog:resource", args=[resource.pk])


def register() -> None:
    register_resource_lookup(resource_by_code)
