"""Reads of the data tool register, restricted to what the user may see."""

from __future__ import annotations

from django.db.models import QuerySet

from wuhan_pdr.accounts.models import Organization

from ..assessments.selectors import assessed_exists, valid_pass_exists
from .models import DataTool
from .permissions import tools_visible_to
from .services import SUBJECT_KIND


def tool_list(user) -> QuerySet[DataTool]:
    """The tools `user` may see, each with `has_pass` (a valid assessment pass today)."""
    return (
        tools_visible_to(user)
        .annotate(has_pass=valid_pass_exists(SUBJECT_KIND))
        .order_by("organization__name", "name", "version", "pk")
    )


def tool_organizations(user) -> QuerySet[Organization]:
    """The organizations of the tools `user` may see (the list's organization filter)."""
    return Organization.objects.filter(
        pk__in=tools_visible_to(user).values("organization_id")
    ).order_by("name")


def tools_never_assessed() -> QuerySet[DataTool]:
    """Registered tools waiting for their first assessment (the overdue list)."""
    return (
        DataTool.objects.select_related("organization")
        .filter(state=DataTool.State.REGISTERED)
        .exclude(assessed_exists(SUBJECT_KIND))
        .order_by("created_at", "pk")
    )
