"""Who may see and work which channels and batches.

A channel belongs to its resource's provider: the provider's staff and data officers set it
up, upload files and start runs; the city bureau's reviewers see every channel (they supervise
aggregation, Art. 15); security administrators see every channel and assess it before activation
(security.assessments). Nobody else sees a channel or its data. `access_*` answers 404 for
missing and forbidden alike.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from wuhan_pdr.accounts.roles import Role, has_role
from wuhan_pdr.kernel.errors import observe_refusals

from .models import Batch, Channel, DowntimeReport

WORKER_ROLES = (Role.AGENCY_STAFF, Role.AGENCY_ADMIN)
OVERSIGHT_ROLES = (Role.CITY_REVIEWER, Role.SECURITY_ADMIN, Role.AUDITOR)


def _active(user) -> bool:
    return bool(user.is_authenticated and user.is_active)


def sees_all_channels(user) -> bool:
    return _active(user) and has_role(user, *OVERSIGHT_ROLES)


def works_for(user, organization_id) -> bool:
    """Whether `user` works channels of `organization_id` (its staff or data officer)."""
    return bool(
        _active(user)
        and organization_id is not None
        and user.organization_id == organization_id
        and has_role(user, *WORKER_ROLES)
    )


def can_work_channel(user, channel: Channel) -> bool:
    return works_for(user, channel.resource.provider_id)


def is_security_admin(user) -> bool:
    return _active(user) and has_role(user, Role.SECURITY_ADMIN)


def may_confirm_zone_move(user, resource, *, downgrade: bool) -> bool:
    """Who confirms a move of a resource's table to another storage zone: a move to a less
    protected zone (`downgrade`) only the security administrator; a move to a more protected
    one the security administrator or the provider's staff."""
    if is_security_admin(user):
        return True
    return not downgrade and works_for(user, resource.provider_id)


def channels_visible_to(user) -> QuerySet[Channel]:
    qs = Channel.objects.select_related("resource", "resource__provider", "information_system")
    if sees_all_channels(user):
        return qs
    if _active(user) and has_role(user, *WORKER_ROLES) and user.organization_id:
        return qs.filter(resource__provider_id=user.organization_id)
    return qs.none()


@observe_refusals("access.channel", actor_arg="user", object_arg="pk", model="aggregation.Channel")
def access_channel(user, pk) -> Channel:
    channel = channels_visible_to(user).filter(pk=pk).first()
    if channel is None:
        raise Http404
    return channel


@observe_refusals("access.batch", actor_arg="user", object_arg="pk", model="aggregation.Batch")
def access_batch(user, pk) -> Batch:
    batch = (
        Batch.objects.select_related("channel", "channel__resource", "channel__resource__provider")
        .filter(channel__in=channels_visible_to(user), pk=pk)
        .first()
    )
    if batch is None:
        raise Http404
    return batch


def can_report_downtime(user, information_system) -> bool:
    return works_for(user, information_system.organization_id)


@observe_refusals(
    "access.downtimereport", actor_arg="user", object_arg="pk", model="aggregation.DowntimeReport"
)
def access_downtime(user, pk) -> DowntimeReport:
    report = DowntimeReport.objects.select_related("information_system").filter(pk=pk).first()
    if report is None or not (
        can_report_downtime(user, report.information_system) or sees_all_channels(user)
    ):
        raise Http404
    return report
