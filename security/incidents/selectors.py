"""Reads of incidents, emergency plans and drills, restricted to what the user may see."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from wuhan_pdr.kernel.workdays import today as local_today

from .models import Drill, EmergencyPlan, Incident
from .permissions import drills_visible_to, incidents_visible_to, plans_visible_to


def incident_list(
    user, *, q: str = "", level: str = "", state: str = "", category: str = ""
) -> QuerySet[Incident]:
    qs = incidents_visible_to(user)
    if q:
        qs = qs.filter(
            Q(title__icontains=q)
            | Q(summary__icontains=q)
            | Q(organization__name__icontains=q)
            | Q(resources__resource_code__icontains=q)
        ).distinct()
    if level:
        qs = qs.filter(level=level)
    if state:
        qs = qs.filter(state=state)
    if category:
        qs = qs.filter(category=category)
    return qs.annotate(n_resources=Count("resources", distinct=True)).order_by(
        "-occurred_at", "-pk"
    )


def open_incidents_for(user) -> QuerySet[Incident]:
    return (
        incidents_visible_to(user)
        .exclude(state=Incident.State.CLOSED)
        .order_by("level", "occurred_at")
    )


def plan_list(user, *, q: str = "", validity: str = "") -> QuerySet[EmergencyPlan]:
    qs = plans_visible_to(user)
    if q:
        qs = qs.filter(
            Q(title__icontains=q) | Q(scope__icontains=q) | Q(organization__name__icontains=q)
        )
    today = local_today()
    if validity == "current":
        qs = qs.filter(valid_from__lte=today, valid_until__gte=today)
    elif validity == "expired":
        qs = qs.filter(valid_until__lt=today)
    return qs.annotate(n_drills=Count("drills")).order_by("title", "-valid_from", "-pk")


def drill_list(user, *, q: str = "", year: int | None = None) -> QuerySet[Drill]:
    qs = drills_visible_to(user)
    if q:
        qs = qs.filter(
            Q(title__icontains=q)
            | Q(scenario__icontains=q)
            | Q(findings__icontains=q)
            | Q(organization__name__icontains=q)
        )
    if year:
        qs = qs.filter(held_on__year=year)
    return qs.order_by("-held_on", "-pk")


def plan_document_versions(plan: EmergencyPlan, limit: int = 50) -> list:
    """The plan's documents, newest first: one historical record per stored file (the record
    that first named it), with who filed it and when. The first is the current document."""
    seen: set[str] = set()
    versions = []
    rows = (
        plan.history.exclude(document="")
        .select_related("history_user")
        .order_by("history_date", "history_id")[:500]
    )
    for row in rows:
        # Historical records keep the file's name as text (django-simple-history).
        if row.document in seen:
            continue
        seen.add(row.document)
        versions.append(row)
    versions.reverse()
    return versions[:limit]
