"""Who sees which bulk filings: the staff and data officers of the agency that uploaded it,
nobody else (the drafts it creates are the agency's own until submitted). `access_filing`
answers 404 for missing and forbidden alike."""

from __future__ import annotations

from django.http import Http404

from wuhan_pdr.kernel.errors import observe_refusals

from ..permissions import can_file_for
from .models import BulkFiling


def filings_visible_to(user):
    if not user.is_authenticated or not can_file_for(user, user.organization):
        return BulkFiling.objects.none()
    return BulkFiling.objects.filter(organization_id=user.organization_id)


@observe_refusals(
    "access.bulkfiling", actor_arg="user", object_arg="pk", model="catalog.BulkFiling"
)
def access_filing(user, pk) -> BulkFiling:
    filing = (
        filings_visible_to(user)
        .select_related("organization", "uploaded_by", "job")
        .filter(pk=pk)
        .first()
    )
    if filing is None:
        raise Http404
    return filing
