"""Who sees and works objections (Art. 10).

The requester sees its own objections; the provider's staff and data officers see the
objections about their agency's resources (of the requester only the name and organization);
the city data bureau's reviewers see and decide every objection. Everyone else gets 404:
`access_objection` answers the same for missing and forbidden.

Who may object to a resource, name its rows and see them follows what the user may see of
the resource (`row_rights`, the one rule; the quality pages read it too for reference rules).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.http import Http404

from catalog.models import DataItem, OpenType, Resource, ShareType
from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role, has_role
from wuhan_pdr.kernel.errors import observe_refusals

from ..datastore import columns_for, table_columns
from ..models import DatastoreTable, Objection
from ..selectors import can_preview, masked_columns

PROVIDER_ROLES = (Role.AGENCY_STAFF, Role.AGENCY_ADMIN)


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def is_bureau(user) -> bool:
    """A reviewer of the city data bureau: accepts, consults on and closes objections."""
    org = getattr(user, "organization", None) if _active(user) else None
    return bool(
        org is not None
        and org.kind == Organization.Kind.CITY_BUREAU
        and has_role(user, Role.CITY_REVIEWER)
    )


def is_provider_worker(user) -> bool:
    """Staff or data officer of some agency (may have objections to carry out)."""
    return bool(_active(user) and user.organization_id and has_role(user, *PROVIDER_ROLES))


def is_provider_of(user, objection: Objection) -> bool:
    return bool(is_provider_worker(user) and user.organization_id == objection.resource.provider_id)


def is_requester_of(user, objection: Objection) -> bool:
    return bool(_active(user) and objection.requester_id == user.pk)


def can_file(user) -> bool:
    """Any signed-in, active user may object to published data it may see (`row_rights`)."""
    return _active(user)


# --- what a user may see of a resource's rows --------------------------------------------------


@dataclass(frozen=True)
class RowRights:
    """What `user` may see of a published resource's rows, and so what it may object to.

    - `may_object`: may raise an objection to the resource at all;
    - `sees_rows`: may see the contents of rows (the `columns` named, masked as the preview
      masks them); without it an objection shows its keys only;
    - `columns`: the table columns it may see (None: every column, the preview's rule);
    - `may_name_rows`: may name rows by key, and so learn whether a key exists: only who
      sees rows and every key column unmasked;
    - `full`: the provider or an overseer (the preview's right): precise answers.
    """

    may_object: bool = False
    sees_rows: bool = False
    may_name_rows: bool = False
    full: bool = False
    columns: frozenset[str] | None = frozenset()
    path: str = ""  # "provider", "share" or "open": why (empty: nothing)


NO_RIGHTS = RowRights()
GOVERNMENT_KINDS = (*Organization.AGENCY_KINDS, *Organization.BUREAU_KINDS)


def is_government(organization) -> bool:
    """Agencies, public utilities and data bureaus read the sharing catalog; everyone else
    (companies, operators, people without an organization) the open catalog."""
    return bool(organization is not None and organization.kind in GOVERNMENT_KINDS)


def row_rights(
    user, resource: Resource, *, table: DatastoreTable | None = None, organization=None
) -> RowRights:
    """The one rule of who may object to `resource`, name its rows and see them.

    - The provider's staff and data officers, and the overseers who may preview any table
      (city reviewers, security administrators, auditors): everything the preview shows.
    - A government user (agency, utility, data bureau) reads the sharing catalog: it may
      object to a resource shared unconditionally or under conditions, never to one not
      shared (不予共享); it sees the rows of one shared unconditionally.
    - Anyone else (a company's requester) reads the open catalog: it may object to a
      resource that is not 不予共享, is open unconditionally or under conditions and whose
      grade allows that; it sees the rows of one open unconditionally.
    - Of the rows it sees, a column is shown when its item's grade (else the resource's)
      allows the same (shared / opened unconditionally); masked columns stay masked.
    - Rows may be named only by who sees rows and every key column of them unmasked.

    `organization` (instead of the user's) asks for a worker of that organization: the
    quality engine asks for the provider of a resource that references another.
    """
    version = resource.published_version
    if version is None or resource.retired_at is not None:
        return NO_RIGHTS
    if organization is None:
        if not _active(user):
            return NO_RIGHTS
        if can_preview(user, resource):
            return RowRights(True, True, True, True, None, "provider")
        organization = getattr(user, "organization", None)
    elif organization.pk == resource.provider_id:
        return RowRights(True, True, True, True, None, "provider")
    grade = version.grade
    if version.share_type == ShareType.NONE:
        return NO_RIGHTS
    if is_government(organization):
        path = "share"
        may_object = version.share_type in (ShareType.UNCONDITIONAL, ShareType.CONDITIONAL)
        sees_rows = (
            version.share_type == ShareType.UNCONDITIONAL and grade.may_share_unconditionally
        )

        def allows(g) -> bool:
            return g.may_share_unconditionally
    else:
        path = "open"
        may_object = (
            version.open_type == OpenType.UNCONDITIONAL and grade.may_open_unconditionally
        ) or (version.open_type == OpenType.CONDITIONAL and grade.may_open_conditionally)
        sees_rows = version.open_type == OpenType.UNCONDITIONAL and grade.may_open_unconditionally

        def allows(g) -> bool:
            return g.may_open_unconditionally

    if not may_object:
        return NO_RIGHTS
    if not sees_rows:
        return RowRights(may_object=True, path=path)
    items = list(DataItem.objects.filter(version=version).select_related("grade"))
    columns = columns_for(items)
    by_item = {i.name: i for i in items}
    if table is None:
        table = DatastoreTable.objects.filter(resource=resource).first()
    if table is not None:
        columns = table_columns(table)
    masked = masked_columns(table if table is not None else DatastoreTable(resource=resource))
    visible = frozenset(
        c.name for c in columns if c.item in by_item and allows(by_item[c.item].grade or grade)
    )
    keys = [c.name for c in columns if c.key]
    may_name = bool(keys) and all(k in visible and k not in masked for k in keys)
    return RowRights(True, True, may_name, False, visible, path)


def may_object(user, resource: Resource) -> bool:
    return row_rights(user, resource).may_object


def can_set_limits(user) -> bool:
    return is_bureau(user) or (_active(user) and has_role(user, Role.SYSTEM_ADMIN))


def sees_requester_contact(user, objection: Objection) -> bool:
    """The requester's account details beyond name and organization: the bureau and the
    requester only, never the provider."""
    return is_bureau(user) or is_requester_of(user, objection)


def objections_visible_q(user) -> Q:
    if not _active(user):
        return Q(pk__in=[])
    if is_bureau(user):
        return Q()
    q = Q(requester_id=user.pk)
    if is_provider_worker(user):
        q |= Q(resource__provider_id=user.organization_id)
    return q


@observe_refusals(
    "access.objection", actor_arg="user", object_arg="pk", model="aggregation.Objection"
)
def access_objection(user, pk) -> Objection:
    objection = (
        Objection.objects.filter(objections_visible_q(user), pk=pk)
        .select_related(
            "resource__provider",
            "resource__published_version",
            "requester__organization",
        )
        .first()
    )
    if objection is None:
        raise Http404
    return objection


# --- workflow guards ------------------------------------------------------------------------


def bureau_guard(objection: Objection, user) -> bool:
    return is_bureau(user)


def provider_guard(objection: Objection, user) -> bool:
    return is_provider_of(user, objection)


def filer_guard(objection: Objection, user) -> bool:
    return can_file(user) and may_object(user, objection.resource)
