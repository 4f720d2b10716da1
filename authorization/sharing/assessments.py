"""Grants to data of the higher grades as subjects of security assessments (Art. 27): such a
grant's key works only while it holds a valid pass (services.grant_authenticate)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from security.assessments import AssessmentSubject, ChecklistQuestion, register_assessment_subject

from .models import Grant

GRANT_CHECKLIST = (
    ChecklistQuestion("scenario", _("The declared scenario needs every granted item.")),
    ChecklistQuestion(
        "delivery", _("Each item's delivery form (clear, HMAC, masked) suits its grade.")
    ),
    ChecklistQuestion(
        "client", _("The client runs on the government network, from the allowed addresses.")
    ),
    ChecklistQuestion(
        "storage", _("Received data is stored encrypted and only as long as needed.")
    ),
    ChecklistQuestion("onward", _("Received data is not passed on to third parties.")),
    ChecklistQuestion("logging", _("The client logs its use of the data.")),
)


def _resolve(pk: str):
    if not str(pk).isdigit():
        return None
    return Grant.objects.select_related("resource", "grantee").filter(pk=int(pk)).first()


def _title(grant: Grant) -> str:
    return f"{grant.resource.code} · {grant.grantee.name} · {grant.key_prefix}"


def _url(grant: Grant) -> str:
    return reverse("sharing:grant", args=[grant.pk])


def _recipients(grant: Grant) -> list:
    from .services import data_officers

    return data_officers(grant.resource.provider_id) + data_officers(grant.grantee_id)


def _pending():
    from security.assessments.selectors import assessed_exists

    return (
        Grant.objects.filter(needs_assessment=True, state=Grant.State.ACTIVE)
        .filter(~assessed_exists("share_grant"))
        .select_related("resource", "grantee")
        .order_by("created_at")
    )


def register() -> None:
    register_assessment_subject(
        AssessmentSubject(
            kind="share_grant",
            label=_("Share grant"),
            resolve=_resolve,
            title=_title,
            url=_url,
            recipients=_recipients,
            pending=_pending,
            checklist=GRANT_CHECKLIST,
        )
    )
