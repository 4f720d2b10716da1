"""Channels as subjects of security assessments (Art. 27: collection tools are assessed before
use). Registered in AggregationConfig.ready(); `security` calls back through these functions."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from security.assessments import (
    AssessmentSubject,
    ChecklistQuestion,
    register_assessment_subject,
)
from wuhan_pdr.accounts.roles import Role

from .models import Channel

CHANNEL_CHECKLIST = (
    ChecklistQuestion(
        "network", _("The channel runs over the government network or a leased line only.")
    ),
    ChecklistQuestion("encryption", _("The connection is encrypted (TLS or an encrypted line).")),
    ChecklistQuestion(
        "credentials", _("The channel's account reads only the listed data, nothing more.")
    ),
    ChecklistQuestion("source", _("The source system is in the census and its owner agrees.")),
    ChecklistQuestion(
        "device", _("The front-end machine or tool is patched and free of known vulnerabilities.")
    ),
    ChecklistQuestion("items", _("Only the catalog's data items are collected.")),
    ChecklistQuestion("logging", _("Transfers are logged at both ends.")),
)


def _resolve(pk: str):
    if not str(pk).isdigit():
        return None
    return Channel.objects.select_related("resource").filter(pk=int(pk)).first()


def _title(channel: Channel) -> str:
    return f"{channel.resource.code} · {channel.name}"


def _url(channel: Channel) -> str:
    return reverse("aggregation:channel-detail", args=[channel.pk])


def _recipients(channel: Channel) -> list:
    """The provider's data officers and the person who set the channel up."""
    users = list(
        get_user_model().objects.filter(
            organization_id=channel.resource.provider_id,
            groups__name=Role.AGENCY_ADMIN,
            is_active=True,
        )
    )
    return [*users, channel.created_by]


def _on_expired(channel: Channel) -> None:
    from .services import channel_suspend_on_expiry

    channel_suspend_on_expiry(channel=channel)


def _pending():
    from .selectors import channels_never_assessed

    return channels_never_assessed()


def register() -> None:
    register_assessment_subject(
        AssessmentSubject(
            kind="channel",
            label=_("Aggregation channel"),
            resolve=_resolve,
            title=_title,
            url=_url,
            recipients=_recipients,
            on_expired=_on_expired,
            pending=_pending,
            checklist=CHANNEL_CHECKLIST,
        )
    )
