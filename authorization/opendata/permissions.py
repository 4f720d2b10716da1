"""Who sees which open-data applications: the applicant, the provider's staff and data
officers, the bureau responsible for the provider, auditors. Everyone else gets a 404."""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from catalog.permissions import FILER_ROLES, reviewable_providers_q
from wuhan_pdr.accounts.roles import Role, has_role
from wuhan_pdr.kernel.errors import observe_refusals

from .models import OpenApplication


def applications_visible_q(user) -> Q:
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    if has_role(user, Role.AUDITOR):
        return Q()
    q = Q(applicant_id=user.pk)
    if user.organization_id and has_role(user, *FILER_ROLES):
        q |= Q(resource__provider_id=user.organization_id)
    if has_role(user, Role.CITY_REVIEWER, Role.DISTRICT_REVIEWER):
        q |= reviewable_providers_q(user) & ~Q(state=OpenApplication.State.SUBMITTED)
    return q


@observe_refusals(
    "access.openapplication",
    actor_arg="user",
    object_arg="pk",
    model="authorization.OpenApplication",
)
def access_application(user, pk) -> OpenApplication:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    found = (
        OpenApplication.objects.filter(applications_visible_q(user), pk=pk)
        .select_related(
            "resource__provider", "resource__published_version", "applicant", "organization"
        )
        .select_related("licence", "grant")
        .first()
    )
    if found is None:
        raise Http404
    return found
