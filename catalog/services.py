"""Writes on the catalog: filing drafts, moving them through review, publishing, revising
and retiring. Each service takes `acting_user`, checks rights and state first, runs in one
transaction, and records history and workflow events naming the actor."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from security.masking.observers import masking_changed
from security.masking.selectors import resolve_rules
from security.models import Grade
from wuhan_pdr.accounts.models import Organization, User
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.errors import AccessDenied, DomainError, TransitionNotAllowed
from wuhan_pdr.kernel.history import audited_save
from wuhan_pdr.kernel.notifications import notify
from wuhan_pdr.kernel.workdays import deadline_after

from . import search, selectors
from .models import (
    CatalogEntry,
    CatalogFeedback,
    Classification,
    DataItem,
    DistrictRelease,
    Resource,
    ResourceVersion,
)
from .permissions import can_file_for
from .rules import Violation, check_resource
from .workflows import catalog_workflow, feedback_workflow

S = ResourceVersion.State

# What a draft carries over from the form, from a revision's source, and into the rules.
VERSION_FIELDS = (*ResourceVersion.CONTENT_FIELDS, "change_note")
ITEM_FIELDS = DataItem.CONTENT_FIELDS


class RulesBroken(DomainError):
    """The entry breaks field rules; `violations` says which, per field and item row."""

    def __init__(self, violations: list[Violation]):
        n = len(violations)
        super().__init__(
            ngettext(
                "The entry cannot be submitted: %(n)d problem to fix.",
                "The entry cannot be submitted: %(n)d problems to fix.",
                n,
            )
            % {"n": n}
        )
        self.violations = violations


def _deadline(step: str):
    days = settings.CATALOG_STEP_DEADLINES.get(step)
    return deadline_after(days) if days else None


def _next_sequence(classification: Classification) -> int:
    # Lock the classification row so two filers never draw the same sequence number.
    Classification.objects.select_for_update().filter(pk=classification.pk).first()
    last = Resource.objects.filter(classification=classification).aggregate(m=Max("sequence"))["m"]
    return (last or 0) + 1


def _write_items(version: ResourceVersion, items: list[dict]) -> None:
    version.items.all().delete()
    DataItem.objects.bulk_create(
        [
            DataItem(
                version=version,
                position=i + 1,
                **{k: item.get(k) for k in ITEM_FIELDS if k in item},
            )
            for i, item in enumerate(items)
        ]
    )


def _clean_items(items: Iterable[dict]) -> list[dict]:
    out = []
    for item in items:
        row = {k: item.get(k) for k in ITEM_FIELDS}
        for k in ("name", "english_name", "description"):
            row[k] = (row.get(k) or "").strip()
        for k in ("is_key", "is_update_flag"):
            row[k] = bool(row.get(k))
        row["nullable"] = True if row.get("nullable") is None else bool(row["nullable"])
        out.append(row)
    # A rule may be named (workbook, demo data) or given by pk: resolved in one query.
    for row, rule in zip(out, resolve_rules(r.get("masking_rule") for r in out), strict=True):
        row["masking_rule"] = rule
    return out


# The history reason of a newly filed entry, by the form or by a bulk filing (stored in
# English, shown translated by includes/history_table.html).
RESOURCE_FILED = gettext_noop("Entry filed")


@transaction.atomic
def resource_draft_create(
    *,
    acting_user: User,
    provider: Organization,
    classification: Classification,
    fields: dict,
    items: list[dict],
    themes: Iterable[Classification] = (),
    related: Iterable[Resource] = (),
) -> ResourceVersion:
    """File a new catalog entry as a draft of `provider`. Drafts may be incomplete; the
    rules are enforced when it is submitted."""
    if not can_file_for(acting_user, provider):
        raise AccessDenied(_("You may not file catalog entries for this organization."))
    sequence = _next_sequence(classification)
    resource = Resource(
        code=f"{classification.code}/{sequence:06d}",
        provider=provider,
        classification=classification,
        sequence=sequence,
        created_by=acting_user,
    )
    resource.full_clean()
    resource.save()
    version = ResourceVersion(resource=resource, number=1, created_by=acting_user)
    for name in VERSION_FIELDS:
        if name in fields:
            setattr(version, name, fields[name])
    audited_save(version, acting_user=acting_user, reason=RESOURCE_FILED)
    version.themes.set(themes)
    version.related_resources.set(related)
    _write_items(version, _clean_items(items))
    return version


@transaction.atomic
def resource_draft_update(
    *,
    version: ResourceVersion,
    acting_user: User,
    fields: dict,
    items: list[dict],
    classification: Classification | None = None,
    themes: Iterable[Classification] | None = None,
    related: Iterable[Resource] | None = None,
) -> ResourceVersion:
    """Save changes to a draft (or a version returned for changes)."""
    version = (
        ResourceVersion.objects.select_for_update()
        .select_related("resource__provider")
        .get(pk=version.pk)
    )
    if not can_file_for(acting_user, version.resource.provider):
        raise AccessDenied(_("You may not change this catalog entry."))
    if not version.is_editable:
        raise DomainError(
            _("Only a draft or a returned entry can be changed; this one is “%(state)s”.")
            % {"state": version.get_state_display()}
        )
    for name in VERSION_FIELDS:
        if name in fields:
            setattr(version, name, fields[name])
    audited_save(version, acting_user=acting_user, reason=gettext_noop("Draft edited"))
    if classification is not None and classification != version.resource.classification:
        if version.resource.published_version_id:
            raise DomainError(
                _("A published resource keeps its classification and code."), field="classification"
            )
        resource = version.resource
        resource.classification = classification
        resource.sequence = _next_sequence(classification)
        resource.code = f"{classification.code}/{resource.sequence:06d}"
        resource.save(update_fields=["classification", "sequence", "code"])
    if themes is not None:
        version.themes.set(themes)
    if related is not None:
        version.related_resources.set([r for r in related if r.pk != version.resource_id])
    _write_items(version, _clean_items(items))
    return version


def violations_of(version: ResourceVersion, *, complete: bool = True) -> list[Violation]:
    """The rules a stored version breaks."""
    data = {name: getattr(version, name) for name in VERSION_FIELDS}
    items = [
        {k: getattr(i, k) for k in ITEM_FIELDS}
        for i in version.items.select_related("grade", "element", "masking_rule")
    ]
    highest = Grade.objects.order_by("-rank").values_list("rank", flat=True).first()
    return check_resource(data, items, complete=complete, highest_rank=highest)


def _agency_admins(org: Organization):
    return User.objects.filter(organization=org, groups__name=Role.AGENCY_ADMIN, is_active=True)


def _reviewers_for(provider: Organization):
    if provider.kind == Organization.Kind.DISTRICT_AGENCY:
        return User.objects.filter(
            organization__kind=Organization.Kind.DISTRICT_BUREAU,
            organization__division_id=provider.division_id,
            groups__name=Role.DISTRICT_REVIEWER,
            is_active=True,
        )
    return User.objects.filter(
        organization__kind=Organization.Kind.CITY_BUREAU,
        groups__name=Role.CITY_REVIEWER,
        is_active=True,
    )


def _version_url(version: ResourceVersion) -> str:
    from django.urls import reverse

    return reverse("catalog:version", kwargs={"pk": version.pk})


def _write_entry(version: ResourceVersion) -> None:
    resource = version.resource
    provider = resource.provider
    doc = search.document((version.name, "A"), (version.summary, "B"), (provider.name, "C"))
    CatalogEntry.objects.update_or_create(
        resource=resource,
        defaults={
            "version": version,
            "code": resource.code,
            "name": version.name,
            "summary": version.summary,
            "provider": provider,
            "provider_name": provider.name,
            "division_code": provider.division.code,
            "classification": resource.classification,
            "share_type": version.share_type,
            "open_type": version.open_type,
            "grade": version.grade,
            "update_cycle": version.update_cycle,
            "published_at": version.published_at,
            "search": RawSQL("%s::tsvector", [doc]),
        },
    )


@transaction.atomic
def resource_transition(
    *, version: ResourceVersion, action: str, acting_user: User, comment: str = ""
) -> ResourceVersion:
    """Move a version along the catalog workflow, with the step's side effects: deadlines,
    notifications to the next actor, and on publication the public catalog entry."""
    version = (
        ResourceVersion.objects.select_for_update()
        .select_related("resource__provider__division", "created_by")
        .get(pk=version.pk)
    )
    catalog_workflow.check(version, action, acting_user=acting_user, comment=comment)
    provider = version.resource.provider
    now = timezone.now()
    recipients: Iterable[User] = ()
    title = ""
    if action == "submit":
        broken = violations_of(version)
        if broken:
            raise RulesBroken(broken)
        version.submitted_at = now
        version.step_deadline = _deadline("agency_approve")
        recipients = _agency_admins(provider)
        title = _("Catalog entry to approve: %(name)s")
    elif action == "withdraw":
        version.step_deadline = None
    elif action == "agency_approve":
        version.step_deadline = _deadline("review")
        recipients = _reviewers_for(provider)
        title = _("Catalog entry to review: %(name)s")
    elif action in ("agency_return", "review_return"):
        version.step_deadline = _deadline("fix")
        recipients = (
            [version.created_by, *_agency_admins(provider)]
            if action == "review_return"
            else [version.created_by]
        )
        title = _("Catalog entry returned for changes: %(name)s")
    elif action == "review":
        version.step_deadline = _deadline("publish")
    elif action == "publish":
        version.published_at = now
        version.step_deadline = None
        recipients = [version.created_by, *_agency_admins(provider)]
        title = _("Catalog entry published: %(name)s")
    elif action == "retire":
        version.step_deadline = None
        recipients = [version.created_by, *_agency_admins(provider)]
        title = _("Catalog entry retired: %(name)s")

    catalog_workflow.apply(version, action, acting_user=acting_user, comment=comment)

    resource = version.resource
    if action in ("publish", "retire"):
        transaction.on_commit(selectors.catalog_changed)
    if action == "publish":
        previous = resource.published_version
        if previous is not None and previous.pk != version.pk and previous.state == S.PUBLISHED:
            catalog_workflow.apply(
                ResourceVersion.objects.select_for_update().get(pk=previous.pk),
                "supersede",
                acting_user=acting_user,
                comment=_("Replaced by version %(n)d.") % {"n": version.number},
            )
        resource.published_version = version
        resource.retired_at = None
        resource.save(update_fields=["published_version", "retired_at"])
        _write_entry(version)
        # The new items may mask otherwise: the resource's stored rows get read functions
        # with the new rules (security.masking.observers).
        masking_changed(resources=[resource], acting_user=acting_user)
    elif action == "retire":
        resource.retired_at = now
        resource.save(update_fields=["retired_at"])
        CatalogEntry.objects.filter(resource=resource).delete()

    if title:
        body = comment or ""
        url = _version_url(version)
        message = title % {"name": version.name}
        notify(
            recipients=[u for u in recipients if u.pk != acting_user.pk],
            title=message,
            body=body,
            url=url,
        )
    return version


@transaction.atomic
def resource_revise(*, resource: Resource, acting_user: User) -> ResourceVersion:
    """Start a new version of a published resource as a draft; the published version stays
    visible until the new one is published."""
    resource = Resource.objects.select_for_update().select_related("provider").get(pk=resource.pk)
    if not can_file_for(acting_user, resource.provider):
        raise AccessDenied(_("You may not revise this catalog entry."))
    current = resource.published_version
    if current is None or current.state != S.PUBLISHED:
        raise DomainError(_("Only a published resource can be revised."))
    open_version = resource.versions.filter(
        state__in=[S.DRAFT, S.SUBMITTED, S.AGENCY_APPROVED, S.REVIEWED, S.RETURNED]
    ).first()
    if open_version is not None:
        raise DomainError(
            _("Version %(n)d of this resource is already being revised.")
            % {"n": open_version.number}
        )
    number = resource.versions.aggregate(m=Max("number"))["m"] + 1
    draft = ResourceVersion(resource=resource, number=number, created_by=acting_user)
    for name in VERSION_FIELDS:
        setattr(draft, name, getattr(current, name))
    draft.change_note = ""
    audited_save(draft, acting_user=acting_user, reason=gettext_noop("Revision started"))
    draft.themes.set(current.themes.all())
    draft.related_resources.set(current.related_resources.all())
    _write_items(
        draft,
        [
            {k: getattr(i, k) for k in ITEM_FIELDS}
            for i in current.items.select_related("element", "masking_rule")
        ],
    )
    return draft


# --- catalog feedback (Art. 14) -------------------------------------------------------------


@transaction.atomic
def feedback_create(
    *,
    acting_user: User,
    kind: str,
    description: str,
    resource: Resource | None = None,
    provider: Organization | None = None,
) -> CatalogFeedback:
    """Report a problem with a catalog entry, or an omission by a provider. It reaches the
    provider's filers and the reviewing bureau."""
    if not acting_user.is_authenticated or not acting_user.is_active:
        raise AccessDenied(_("Please log in to send feedback."))
    if resource is not None:
        if resource.published_version_id is None or resource.retired_at is not None:
            raise DomainError(
                _("Feedback can only concern a published resource."), field="resource"
            )
        provider = resource.provider
    if provider is None or not provider.is_agency:
        raise DomainError(_("Choose the agency the feedback is about."), field="provider")
    if not (description or "").strip():
        raise DomainError(_("Describe the problem."), field="description")
    feedback = CatalogFeedback(
        provider=provider,
        resource=resource,
        kind=kind,
        description=description.strip(),
        requester=acting_user,
        step_deadline=_deadline("feedback_answer"),
    )
    audited_save(feedback, acting_user=acting_user, reason=gettext_noop("Feedback reported"))
    recipients = [*_filers_of(provider), *_reviewers_for(provider)]
    notify(
        recipients=[u for u in recipients if u.pk != acting_user.pk],
        title=_("New catalog feedback: %(kind)s") % {"kind": feedback.get_kind_display()},
        body=feedback.description[:500],
        url=_feedback_url(feedback),
    )
    return feedback


def _filers_of(org: Organization):
    return User.objects.filter(
        organization=org, groups__name__in=[Role.AGENCY_STAFF, Role.AGENCY_ADMIN], is_active=True
    ).distinct()


def _feedback_url(feedback: CatalogFeedback) -> str:
    from django.urls import reverse

    return reverse("catalog:feedback", kwargs={"pk": feedback.pk})


# What each move of a feedback report does: the deadline of the next step (a key of
# CATALOG_STEP_DEADLINES, None when the report is closed), the notice's title, and who is
# told: "provider" (its filers), "bureau" (the responsible reviewers), "requester".
FEEDBACK_STEPS = {
    "propose_adjustment": (
        "feedback_agree",
        gettext_noop("Catalog feedback: the provider proposes an adjustment"),
        ("bureau",),
    ),
    "propose_no_change": (
        "feedback_agree",
        gettext_noop("Catalog feedback: the provider proposes no adjustment"),
        ("bureau",),
    ),
    "send_back": (
        "feedback_answer",
        gettext_noop("Catalog feedback: the bureau sent your proposal back"),
        ("provider",),
    ),
    "agree_adjustment": (
        "feedback_adjust",
        gettext_noop("Catalog feedback: the bureau agreed to the adjustment"),
        ("provider", "requester"),
    ),
    "agree_no_change": (
        None,
        gettext_noop("Catalog feedback closed: the entry needs no adjustment"),
        ("provider", "requester"),
    ),
    "adjust": (
        None,
        gettext_noop("The catalog was adjusted after your feedback"),
        ("requester", "bureau"),
    ),
    "reject": (
        None,
        gettext_noop("Your catalog feedback was rejected"),
        ("requester", "provider"),
    ),
}


def _check_adjusting_version(feedback: CatalogFeedback, version: ResourceVersion | None) -> None:
    if version is None:
        raise DomainError(_("Choose the version that adjusts the entry."), field="version")
    if version.resource.provider_id != feedback.provider_id or (
        feedback.resource_id and version.resource_id != feedback.resource_id
    ):
        raise DomainError(_("That version belongs to another resource."), field="version")
    if version.created_at < feedback.created_at:
        raise DomainError(_("Link a version made after the feedback was sent."), field="version")


@transaction.atomic
def feedback_transition(
    *,
    feedback: CatalogFeedback,
    action: str,
    acting_user: User,
    comment: str = "",
    version: ResourceVersion | None = None,
) -> CatalogFeedback:
    """Move a feedback report along its workflow (Art. 14): the provider proposes an
    adjustment or none, the responsible bureau agrees or sends the proposal back, the
    provider makes an agreed adjustment (linking the new version); the bureau may reject the
    report. Each move sets the next deadline, records who did what, and tells whoever acts
    next, and the requester of the outcome."""
    feedback = (
        CatalogFeedback.objects.select_for_update()
        .select_related("provider", "requester")
        .get(pk=feedback.pk)
    )
    transition = feedback_workflow.get(action)
    if transition.internal:  # moves the platform made (migrations), never a user's
        raise TransitionNotAllowed(
            _("You are not allowed to “%(action)s” this record.") % {"action": transition.label}
        )
    feedback_workflow.check(feedback, action, acting_user=acting_user, comment=comment)
    text = comment.strip()
    if action in ("propose_adjustment", "propose_no_change"):
        feedback.answer = text
        feedback.bureau_comment = ""
    elif action in ("send_back", "agree_adjustment", "agree_no_change"):
        feedback.bureau_comment = text
    elif action == "adjust":
        _check_adjusting_version(feedback, version)
        feedback.adjusted_version = version
    elif action == "reject":
        feedback.rejection_reason = text
    step, title, told = FEEDBACK_STEPS[action]
    feedback.step_deadline = _deadline(step) if step else None
    feedback_workflow.apply(feedback, action, acting_user=acting_user, comment=comment)
    recipients: list[User] = []
    if "requester" in told:
        recipients.append(feedback.requester)
    if "provider" in told:
        recipients += list(_filers_of(feedback.provider))
    if "bureau" in told:
        recipients += list(_reviewers_for(feedback.provider))
    notify(
        recipients=list({u.pk: u for u in recipients if u.pk != acting_user.pk}.values()),
        title=_(title),
        body=text[:500],
        url=_feedback_url(feedback),
    )
    return feedback


# --- district releases (Art. 13) ------------------------------------------------------------


@transaction.atomic
def district_release_publish(*, acting_user: User, note: str = "") -> DistrictRelease:
    """Publish the district's reviewed entries and record a dated release of its catalog."""
    # An anonymous user has no organization: ask before reading it.
    org = acting_user.organization if acting_user.is_authenticated else None
    if not (
        acting_user.is_active
        and org is not None
        and org.kind == Organization.Kind.DISTRICT_BUREAU
        and acting_user.groups.filter(name=Role.DISTRICT_REVIEWER).exists()
    ):
        raise AccessDenied(_("Only a district bureau's reviewer releases its district's catalog."))
    division = org.division
    district_q = dict(
        resource__provider__kind=Organization.Kind.DISTRICT_AGENCY,
        resource__provider__division=division,
    )
    waiting = list(
        ResourceVersion.objects.filter(state=S.REVIEWED, **district_q).values_list("pk", flat=True)
    )
    for pk in waiting:
        resource_transition(
            version=ResourceVersion(pk=pk),
            action="publish",
            acting_user=acting_user,
            comment=note or _("Published with the district release."),
        )
    number = (
        DistrictRelease.objects.filter(division=division).aggregate(m=Max("number"))["m"] or 0
    ) + 1
    release = DistrictRelease.objects.create(
        division=division,
        number=number,
        released_by=acting_user,
        note=note.strip()[:500],
        published_now=len(waiting),
    )
    release.versions.set(ResourceVersion.objects.filter(state=S.PUBLISHED, **district_q))
    return release
