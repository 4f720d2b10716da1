"""Reads of the sandbox: sessions as the user may see them, the resources a session may ask
for, and what the aggregate builder offers on a resource's items."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from aggregation.datastore import columns_for, table_exists
from aggregation.models import DatastoreTable
from aggregation.selectors import masked_columns
from catalog.models import DataItem, Resource

from .functions import is_numeric
from .models import SandboxQuery, SandboxSession
from .permissions import is_city_reviewer, is_provider_officer, sessions_visible_q

S = SandboxSession.State


def my_sessions(user) -> QuerySet[SandboxSession]:
    return (
        SandboxSession.objects.filter(requester_id=user.pk)
        .select_related("provider", "organization")
        .prefetch_related("resources__published_version")
    )


def review_sessions(user) -> QuerySet[SandboxSession]:
    """The sessions on the user's agency's resources (none unless it is a data officer)."""
    if not is_provider_officer(user):
        return SandboxSession.objects.none()
    return (
        SandboxSession.objects.filter(provider_id=user.organization_id)
        .select_related("requester", "organization", "provider")
        .prefetch_related("resources__published_version")
    )


def sessions_to_review(user) -> QuerySet[SandboxSession]:
    return review_sessions(user).filter(state=S.SUBMITTED).order_by("step_deadline", "pk")


def sessions_overdue(user, *, now=None) -> QuerySet[SandboxSession]:
    """For the city bureau's reviewers: every session whose provider's reply is overdue."""
    if not is_city_reviewer(user):
        return SandboxSession.objects.none()
    return (
        SandboxSession.objects.filter(state=S.SUBMITTED, step_deadline__lt=now or timezone.now())
        .select_related("organization", "provider")
        .order_by("step_deadline", "pk")
    )


def visible_sessions(user) -> QuerySet[SandboxSession]:
    return SandboxSession.objects.filter(sessions_visible_q(user))


def requestable_resources(user) -> QuerySet[Resource]:
    """Published resources of other organizations whose data is on the platform."""
    with_data = DatastoreTable.objects.filter(row_count__gt=0).values("resource_id")
    qs = Resource.objects.filter(
        published_version__isnull=False, retired_at__isnull=True, pk__in=with_data
    ).select_related("published_version", "provider")
    if getattr(user, "organization_id", None):
        qs = qs.exclude(provider_id=user.organization_id)
    return qs.order_by("provider__name", "code")


def session_queries(session: SandboxSession) -> QuerySet[SandboxQuery]:
    return session.queries.select_related("resource__published_version", "user")


def resource_name(resource: Resource) -> str:
    version = resource.published_version
    return version.name if version is not None else resource.code


@dataclass(frozen=True)
class SandboxItem:
    """One item of a resource as the builder sees it."""

    column: str
    label: str
    sql_type: str
    data_type: str
    key: bool
    masked: bool  # has a masking rule: never grouped, filtered or measured
    identifying: bool  # masked or of a grade that requires masking: no min / max

    @property
    def numeric(self) -> bool:
        return is_numeric(self.sql_type)

    @property
    def groupable(self) -> bool:
        return not self.masked and not self.key

    @property
    def rangeable(self) -> bool:
        return self.groupable and (self.numeric or self.data_type in ("D", "T"))


def sandbox_table(resource: Resource) -> DatastoreTable | None:
    table = DatastoreTable.objects.filter(resource=resource).select_related("resource").first()
    if table is None or not table_exists(table.table_name, table.schema):
        return None
    return table


def sandbox_items(resource: Resource, table: DatastoreTable | None = None) -> list[SandboxItem]:
    """The resource's items that its stored table holds, with what the builder may do with
    each (published version's masking: an item's own rule or its element's)."""
    table = table or sandbox_table(resource)
    if table is None or resource.published_version_id is None:
        return []
    items = list(
        DataItem.objects.filter(version_id=resource.published_version_id)
        .select_related("grade")
        .order_by("position")
    )
    masked = masked_columns(table)
    stored = {c["name"]: c for c in table.columns}
    out = []
    for item, column in zip(items, columns_for(items), strict=True):
        if column.name not in stored:
            continue
        is_masked = column.name in masked
        high = bool(item.grade_id and item.grade.masking_required)
        out.append(
            SandboxItem(
                column=column.name,
                label=item.name,
                sql_type=stored[column.name]["type"],
                data_type=column.data_type,
                key=column.key,
                masked=is_masked,
                identifying=is_masked or high,
            )
        )
    return out


def session_resources(session: SandboxSession) -> list[Resource]:
    return list(session.resources.select_related("published_version", "provider").order_by("code"))


def bounds_key(resource_id: int, column: str) -> str:
    return f"{resource_id}:{column}"


def session_bounds(session: SandboxSession, resource_id: int, column: str):
    """The clamping bounds (lo, hi) declared for an item, or None."""
    found = (session.bounds or {}).get(bounds_key(resource_id, column))
    if not found or len(found) != 2:
        return None
    return float(found[0]), float(found[1])


def open_q() -> Q:
    return Q(state=S.SUBMITTED)
