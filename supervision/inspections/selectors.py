"""Reads of supervision inspections, restricted to what the user may see, with the related rows
a page shows fetched up front (a list's query count does not grow with its rows)."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from wuhan_pdr.accounts.models import Organization

from .models import Finding, Inspection
from .permissions import visible_q


def inspection_list_visible_to(user) -> QuerySet[Inspection]:
    return (
        Inspection.objects.filter(visible_q(user))
        .select_related("bureau", "subject")
        .annotate(
            finding_count=Count("findings", distinct=True),
            pending_count=Count(
                "findings",
                filter=Q(findings__follow_up=Finding.FollowUp.PENDING),
                distinct=True,
            ),
        )
        .order_by("-planned_start", "-pk")
    )


def findings_of(inspection: Inspection) -> QuerySet[Finding]:
    from catalog.models import Resource

    return (
        Finding.objects.filter(inspection=inspection)
        .select_related("order", "recorded_by")
        .prefetch_related(
            Prefetch(
                "resources",
                queryset=Resource.objects.select_related("published_version").order_by("code"),
            ),
            "evidence",
        )
        .order_by("number")
    )


def resources_of(subject: Organization):
    """The catalog resources an inspection of `subject` may name: an agency's own resources,
    an operator's authorized ones."""
    from catalog.models import Resource

    qs = Resource.objects.filter(retired_at__isnull=True).select_related("published_version")
    if subject.kind == Organization.Kind.OPERATOR:
        return qs.filter(operation_authorizations__operator=subject).distinct().order_by("code")
    return qs.filter(provider=subject).order_by("code")


def inspectors_for(bureau: Organization):
    """The people of `bureau` who may inspect: not its auditors nor its system administrator,
    who must stay apart from the work they oversee (separation of duties)."""
    from django.contrib.auth import get_user_model

    from wuhan_pdr.accounts.roles import Role

    return (
        get_user_model()
        .objects.filter(organization=bureau, is_active=True)
        .exclude(groups__name__in=[Role.AUDITOR, Role.SYSTEM_ADMIN])
        .order_by("full_name", "username")
    )


def authorizations_of(subject: Organization):
    from authorization.operation.models import OperationAuthorization

    return OperationAuthorization.objects.filter(
        operator=subject, state__in=OperationAuthorization.DISCLOSED
    ).order_by("-starts_on", "-pk")
