"""Who may see and record security assessments. The security administrator assesses; the
auditor and the city bureau's reviewers read. `access_assessment` answers 404 for missing and
forbidden alike."""

from __future__ import annotations

from django.http import Http404

from wuhan_pdr.accounts.roles import Role, has_role

from .models import Assessment

READERS = (Role.SECURITY_ADMIN, Role.AUDITOR, Role.CITY_REVIEWER)


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def can_assess(user) -> bool:
    return _active(user) and has_role(user, Role.SECURITY_ADMIN)


def sees_assessments(user) -> bool:
    return _active(user) and has_role(user, *READERS)


def access_assessment(user, pk) -> Assessment:
    if not sees_assessments(user):
        raise Http404
    assessment = (
        Assessment.objects.select_related("assessor").prefetch_related("answers").filter(pk=pk)
    ).first()
    if assessment is None:
        raise Http404
    return assessment
