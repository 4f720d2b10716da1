"""The objection button on a catalog entry's page, shown only to who may object to it."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from catalog.actions import ResourceAction, register_resource_action

from .permissions import may_object


def _url(resource) -> str:
    return f"{reverse('objections:create')}?{urlencode({'resource': resource.pk})}"


def register() -> None:
    register_resource_action(
        ResourceAction(key="objection", label=_("Raise an objection"), url=_url, allowed=may_object)
    )
