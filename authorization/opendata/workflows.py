"""The workflow of an open-data application: the provider's data officer, then the data
bureau responsible for the provider (catalog.permissions.reviews_for)."""

from __future__ import annotations

from django.utils.translation import pgettext_lazy

from catalog.permissions import is_agency_admin_of, reviews_for
from wuhan_pdr.kernel.workflow import Transition, Workflow

from .models import OpenApplication

S = OpenApplication.State


def _provider(application, user) -> bool:
    return is_agency_admin_of(user, application.resource.provider)


def _bureau(application, user) -> bool:
    return reviews_for(user, application.resource.provider)


application_workflow = Workflow(
    transitions=[
        Transition(
            "provider_approve",
            frozenset({S.SUBMITTED}),
            S.PROVIDER_APPROVED,
            pgettext_lazy("open application", "Agree"),
            _provider,
        ),
        Transition(
            "provider_refuse",
            frozenset({S.SUBMITTED}),
            S.REFUSED,
            pgettext_lazy("open application", "Refuse"),
            _provider,
            comment_required=True,
        ),
        Transition(
            "bureau_approve",
            frozenset({S.PROVIDER_APPROVED}),
            S.APPROVED,
            pgettext_lazy("open application", "Approve and issue a grant"),
            _bureau,
        ),
        Transition(
            "bureau_refuse",
            frozenset({S.PROVIDER_APPROVED}),
            S.REFUSED,
            pgettext_lazy("open application", "Refuse"),
            _bureau,
            comment_required=True,
        ),
    ]
)
