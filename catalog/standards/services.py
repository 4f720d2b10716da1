"""Writes on the data-element standard: agencies' change requests (Art. 9) and what their
approval publishes. Each service takes `acting_user`, checks rights and state first, runs in
one transaction, and records history and workflow events naming the actor.

Approval never edits a published version: adding makes version 1, changing makes version
n+1 and marks version n superseded, retiring marks the current version retired. Catalog
items keep the version they bound to; their pages say when a newer one exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuhan_pdr.accounts.models import Organization, User
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.errors import AccessDenied, DomainError
from wuhan_pdr.kernel.history import audited_save
from wuhan_pdr.kernel.notifications import notify
from wuhan_pdr.kernel.workdays import deadline_after, today

from ..models import DataItem, ResourceVersion
from .impact import counts_apply, impact_count_enqueue
from .models import CodeList, DataElement, ElementChangeRequest
from .permissions import can_edit_change_request, can_request_for
from .validation import format_is_valid
from .workflows import change_request_workflow, element_workflow

R = ElementChangeRequest.State
K = ElementChangeRequest.Kind
E = DataElement.Status

CURRENT_STATUSES = (E.CANDIDATE, E.STANDARD)
# The history reason of an element version an approved change request published (an English
# constant, shown translated by the history table; the request is named on the element page).
ELEMENT_PUBLISHED = gettext_noop("Published by an approved change request")
# Resource versions whose items count as "using" an element: everything but history.
LIVE_VERSION_STATES = tuple(
    s
    for s in ResourceVersion.State.values
    if s not in (ResourceVersion.State.SUPERSEDED, ResourceVersion.State.RETIRED)
)

# The content of an element version, as a proposal holds it (code_list by identifier).
ELEMENT_FIELDS = (
    "name",
    "english_name",
    "pinyin",
    "definition",
    "object_class",
    "property",
    "representation",
    "data_type",
    "format",
    "domain_kind",
    "code_list",
    "pattern",
    "checksum",
    "unit",
    "classification",
    "synonyms",
)
REQUIRED_FIELDS = ("name", "definition", "data_type", "format")
IDENTIFIER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,29}$")
GENERATED_IDENTIFIER_RE = r"^DE[0-9]{5}$"
# One advisory lock key for drawing the next generated identifier (two approvals at once
# must not draw the same number).
_IDENTIFIER_LOCK = 4_190_009


class ProposalInvalid(DomainError):
    """The proposed content breaks rules; `errors` maps each field to its message."""

    def __init__(self, errors: dict[str, str]):
        field, message = next(iter(errors.items()))
        super().__init__(
            _("The proposal has %(n)d problem(s) to fix.") % {"n": len(errors)}, field=field
        )
        self.errors = errors


# --- reading the proposal -----------------------------------------------------------------


def element_content(element: DataElement) -> dict:
    """The content of a version as a proposal holds it."""
    content = {name: getattr(element, name) for name in ELEMENT_FIELDS if name != "code_list"}
    content["code_list"] = element.code_list.identifier if element.code_list_id else ""
    return content


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _max_length(name: str) -> int | None:
    return DataElement._meta.get_field(name).max_length


def clean_proposal(kind: str, proposal: dict | None, *, element: DataElement | None = None) -> dict:
    """The proposal normalised (known fields only, stripped, a CHANGE filled in from the
    current version), or `ProposalInvalid` naming every field that breaks a rule."""
    if kind == K.RETIRE:
        return {}
    proposal = proposal or {}
    base = element_content(element) if kind == K.CHANGE and element is not None else {}
    base = {name: _text(value) for name, value in base.items()}
    out = {name: _text(proposal.get(name, base.get(name, ""))) for name in ELEMENT_FIELDS}
    errors: dict[str, str] = {}
    if kind == K.ADD:
        out["identifier"] = _text(proposal.get("identifier"))
    for name, value in out.items():
        if "\x00" in value:
            errors[name] = _("Null characters are not allowed.")
    for name in REQUIRED_FIELDS:
        if not out[name] and name not in errors:
            errors[name] = _("This field is required.")
    for name in ELEMENT_FIELDS:
        limit = (
            _max_length(name)
            if name != "code_list"
            else CodeList._meta.get_field("identifier").max_length
        )
        if limit and len(out[name]) > limit and name not in errors:
            errors[name] = _("At most %(n)d characters.") % {"n": limit}
    data_types = dict(DataElement._meta.get_field("data_type").flatchoices)
    if out["data_type"] and out["data_type"] not in data_types and "data_type" not in errors:
        errors["data_type"] = _("Choose one of the data types.")
    if out["format"] and "format" not in errors and not format_is_valid(out["format"]):
        errors["format"] = _(
            "“%(format)s” is not a valid format (e.g. c..50, n8, an..18, n..12,2, YYYY-MM-DD)."
        ) % {"format": out["format"]}
    if not out["domain_kind"]:
        out["domain_kind"] = DataElement.DomainKind.NONE
    if out["domain_kind"] not in DataElement.DomainKind.values:
        errors["domain_kind"] = _("Choose how the value domain is given.")
    if out["checksum"] not in dict(DataElement._meta.get_field("checksum").flatchoices):
        errors["checksum"] = _("Choose one of the checksum rules.")
    if out["domain_kind"] == DataElement.DomainKind.CODE_LIST:
        if not out["code_list"]:
            errors.setdefault("code_list", _("Name the code list of the value domain."))
        elif (
            "code_list" not in errors
            and not CodeList.objects.filter(identifier=out["code_list"]).exists()
        ):
            errors["code_list"] = _("There is no code list “%(code)s”.") % {
                "code": out["code_list"]
            }
    else:
        out["code_list"] = ""
    if out["domain_kind"] == DataElement.DomainKind.PATTERN:
        if not out["pattern"]:
            errors.setdefault("pattern", _("Give the pattern of the value domain."))
        elif "pattern" not in errors:
            try:
                re.compile(out["pattern"])
            except (re.error, RecursionError, OverflowError) as exc:
                errors["pattern"] = _(
                    "The pattern is not a valid regular expression: %(error)s"
                ) % {"error": exc}
    else:
        out["pattern"] = ""
    if kind == K.ADD and out["identifier"] and "identifier" not in errors:
        if not IDENTIFIER_RE.match(out["identifier"]):
            errors["identifier"] = _(
                "An identifier has up to 30 letters, digits, dots, hyphens or underscores."
            )
        elif DataElement.objects.filter(identifier=out["identifier"]).exists():
            errors["identifier"] = _("The identifier %(identifier)s is already in use.") % {
                "identifier": out["identifier"]
            }
    if kind == K.CHANGE and element is not None and not errors and out == base:
        errors["name"] = _("The proposal changes nothing in the current version.")
    if errors:
        raise ProposalInvalid(errors)
    return out


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give the reason for the request."), field="reason")
    if "\x00" in reason:
        raise DomainError(_("Null characters are not allowed."), field="reason")
    if len(reason) > 4000:
        raise DomainError(_("At most %(n)d characters.") % {"n": 4000}, field="reason")
    return reason


def current_version(identifier: str) -> DataElement | None:
    """The candidate or standard version of `identifier`, if any."""
    return DataElement.objects.filter(identifier=identifier, status__in=CURRENT_STATUSES).first()


def _check_target(kind: str, element: DataElement | None, replacement: DataElement | None) -> None:
    if kind not in K.values:
        raise DomainError(_("Choose whether to add, change or retire an element."), field="kind")
    if kind == K.ADD:
        if element is not None:
            raise DomainError(
                _("A request to add an element names no existing element."), field="element"
            )
    else:
        if element is None:
            raise DomainError(_("Choose the element."), field="element")
        if element.status not in CURRENT_STATUSES:
            raise DomainError(
                _("%(identifier)s version %(n)d is no longer current; choose its current version.")
                % {"identifier": element.identifier, "n": element.version},
                field="element",
            )
    if replacement is not None:
        if kind != K.RETIRE:
            raise DomainError(_("Only a retirement names a replacement."), field="replacement")
        if replacement.status not in CURRENT_STATUSES:
            raise DomainError(
                _("The replacement must be a current standard element."), field="replacement"
            )
        if element is not None and replacement.identifier == element.identifier:
            raise DomainError(_("An element cannot replace itself."), field="replacement")


def _fresh(element: DataElement | None) -> DataElement | None:
    """`element` as stored now (the caller's copy may predate an approval)."""
    return (
        None
        if element is None
        else DataElement.objects.select_related("code_list").get(pk=element.pk)
    )


# --- filing requests ------------------------------------------------------------------------


@transaction.atomic
def change_request_create(
    *,
    acting_user: User,
    kind: str,
    reason: str,
    proposal: dict | None = None,
    element: DataElement | None = None,
    replacement: DataElement | None = None,
) -> ElementChangeRequest:
    """Draft a request of the acting user's agency to add, change or retire an element."""
    organization = acting_user.organization if acting_user.is_authenticated else None
    if not can_request_for(acting_user, organization):
        raise AccessDenied(_("Only agency staff propose changes to data elements."))
    element, replacement = _fresh(element), _fresh(replacement)
    _check_target(kind, element, replacement)
    request = ElementChangeRequest(
        kind=kind,
        element=element,
        replacement=replacement,
        proposal=clean_proposal(kind, proposal, element=element),
        reason=_clean_reason(reason),
        organization=organization,
        requested_by=acting_user,
    )
    audited_save(request, acting_user=acting_user, reason=gettext_noop("Request filed"))
    return request


@transaction.atomic
def change_request_update(
    *,
    change_request: ElementChangeRequest,
    acting_user: User,
    reason: str,
    proposal: dict | None = None,
    replacement: DataElement | None = None,
) -> ElementChangeRequest:
    """Save changes to a draft or a returned request. A request about an element that has
    since got a newer version is moved onto that version."""
    request = (
        ElementChangeRequest.objects.select_for_update(of=("self",))
        .select_related("element")
        .get(pk=change_request.pk)
    )
    if not can_request_for(acting_user, request.organization):
        raise AccessDenied(_("You may not change this request."))
    if not can_edit_change_request(acting_user, request):
        raise DomainError(
            _("Only a draft or a returned request can be changed; this one is “%(state)s”.")
            % {"state": request.get_state_display()}
        )
    element = request.element
    if element is not None and element.status not in CURRENT_STATUSES:
        element = current_version(element.identifier)
        if element is None:
            raise DomainError(_("The element has been retired since this request was made."))
    replacement = _fresh(replacement)
    _check_target(request.kind, element, replacement)
    request.element = element
    request.replacement = replacement
    request.proposal = clean_proposal(request.kind, proposal, element=element)
    request.reason = _clean_reason(reason)
    audited_save(request, acting_user=acting_user, reason=gettext_noop("Request edited"))
    return request


# --- impact ---------------------------------------------------------------------------------


def items_using(identifier: str):
    """Items of live catalog versions bound to any version of `identifier`."""
    return (
        DataItem.objects.filter(
            element__identifier=identifier, version__state__in=LIVE_VERSION_STATES
        )
        .select_related("element", "version__resource__provider")
        .order_by("version__resource__code", "version__number", "position")
    )


def element_impact(identifier: str | None) -> dict:
    """What a change to `identifier` touches: every item bound to any of its versions, with
    its resource. Stored values that would fail the proposed format or value domain are
    counted by a background job (impact.py), kept in ElementImpactCount."""
    items = list(items_using(identifier)) if identifier else []
    rows = [
        {
            "item_id": i.pk,
            "item_name": i.name,
            "column": i.english_name,
            "element_version": i.element.version,
            "resource_id": i.version.resource_id,
            "resource_code": i.version.resource.code,
            "resource_name": i.version.name,
            "provider_id": i.version.resource.provider_id,
            "provider": i.version.resource.provider.name,
            "version_id": i.version_id,
            "version_number": i.version.number,
            "version_state": i.version.state,
        }
        for i in items
    ]
    return {
        "computed_at": timezone.now().isoformat(),
        "identifier": identifier or "",
        "items": rows,
        "resource_count": len({r["resource_id"] for r in rows}),
        "provider_count": len({r["provider_id"] for r in rows}),
    }


# --- moving requests ------------------------------------------------------------------------


def _days(name: str, default: int) -> int:
    return getattr(settings, name, default)


def _city_reviewers():
    return User.objects.filter(
        organization__kind=Organization.Kind.CITY_BUREAU,
        groups__name=Role.CITY_REVIEWER,
        is_active=True,
    ).distinct()


def _filers_of(provider_ids: Iterable[int]):
    return User.objects.filter(
        organization_id__in=list(provider_ids),
        groups__name__in=[Role.AGENCY_STAFF, Role.AGENCY_ADMIN],
        is_active=True,
    ).distinct()


def _request_url(request: ElementChangeRequest) -> str:
    return reverse("standards:request", kwargs={"pk": request.pk})


def _element_url(identifier: str) -> str:
    return reverse("standards:element", kwargs={"identifier": identifier})


def request_title(request: ElementChangeRequest) -> str:
    """A short name of the request, e.g. “Change an element DE00001 公民身份号码”."""
    if request.kind == K.ADD:
        subject = request.proposal.get("name", "")
    else:
        subject = (
            f"{request.element.identifier} {request.element.name}" if request.element_id else ""
        )
    return f"{request.get_kind_display()} {subject}".strip()


@transaction.atomic
def change_request_transition(
    *, change_request: ElementChangeRequest, action: str, acting_user: User, comment: str = ""
) -> ElementChangeRequest:
    """Submit, approve, return or reject a request, with the step's side effects: the
    impact computed at submission, deadlines, notifications to the next actor, and on
    approval the new element version and a notice to the providers whose items use it."""
    request = (
        ElementChangeRequest.objects.select_for_update(of=("self",))
        .select_related("element", "replacement", "organization", "requested_by")
        .get(pk=change_request.pk)
    )
    comment = comment or ""
    if "\x00" in comment:
        raise DomainError(_("Null characters are not allowed."), field="comment")
    change_request_workflow.check(request, action, acting_user=acting_user, comment=comment)
    title = request_title(request)
    if action == "submit":
        _check_target(request.kind, request.element, request.replacement)
        request.proposal = clean_proposal(request.kind, request.proposal, element=request.element)
        _clean_reason(request.reason)
        request.impact = element_impact(request.element.identifier if request.element_id else None)
        request.step_deadline = deadline_after(_days("STANDARDS_REVIEW_DAYS", 10))
        change_request_workflow.apply(request, action, acting_user=acting_user, comment=comment)
        if counts_apply(request):
            impact_count_enqueue(change_request=request, acting_user=acting_user)
        notify(
            recipients=[u for u in _city_reviewers() if u.pk != acting_user.pk],
            title=_("Data element request to review: %(title)s") % {"title": title},
            body=request.reason[:500],
            url=_request_url(request),
        )
    elif action in ("return", "reject"):
        request.step_deadline = (
            deadline_after(_days("STANDARDS_FIX_DAYS", 10)) if action == "return" else None
        )
        change_request_workflow.apply(request, action, acting_user=acting_user, comment=comment)
        message = (
            _("Your data element request was returned for changes: %(title)s")
            if action == "return"
            else _("Your data element request was rejected: %(title)s")
        )
        notify(
            recipients=[request.requested_by],
            title=message % {"title": title},
            body=comment.strip()[:500],
            url=_request_url(request),
        )
    elif action == "approve":
        result = _publish(request, acting_user=acting_user)
        request.result = result
        request.step_deadline = None
        change_request_workflow.apply(request, action, acting_user=acting_user, comment=comment)
        notify(
            recipients=[request.requested_by],
            title=_("Your data element request was approved: %(title)s") % {"title": title},
            body=comment.strip()[:500],
            url=_request_url(request),
        )
        _notify_providers(request, result, acting_user=acting_user)
    return request


def _publish(request: ElementChangeRequest, *, acting_user: User) -> DataElement:
    """Carry out an approved request; returns the version it made or retired."""
    if request.kind == K.ADD:
        return _add(request, acting_user=acting_user)
    identifier = request.element.identifier
    # Lock every version of the element: two approvals about it wait for each other.
    versions = list(
        DataElement.objects.select_for_update().filter(identifier=identifier).order_by("version")
    )
    current = next((v for v in versions if v.status in CURRENT_STATUSES), None)
    if current is None or current.pk != request.element_id:
        raise DomainError(
            _(
                "%(identifier)s has changed since this request was made; return it so that the proposal can be updated."
            )
            % {"identifier": identifier}
        )
    if request.kind == K.CHANGE:
        element_workflow.apply(
            current,
            "supersede",
            acting_user=acting_user,
            comment=_("Replaced by version %(n)d.") % {"n": versions[-1].version + 1},
        )
        new = DataElement(
            identifier=identifier,
            version=versions[-1].version + 1,
            status=E.STANDARD,
            submitted_by=request.organization,
            approved_at=today(),
            masking_rule_id=current.masking_rule_id,  # a security decision, not the standard's
        )
        _fill(new, request.proposal)
        audited_save(new, acting_user=acting_user, reason=ELEMENT_PUBLISHED)
        return new
    # Retire.
    if request.replacement_id is None:
        in_use = items_using(identifier).count()
        if in_use:
            raise DomainError(
                _(
                    "%(identifier)s is still used by %(n)d catalog item(s); it can only be retired with a replacement."
                )
                % {"identifier": identifier, "n": in_use},
                field="replacement",
            )
    else:
        replacement = DataElement.objects.filter(pk=request.replacement_id).first()
        if replacement is None or replacement.status not in CURRENT_STATUSES:
            raise DomainError(
                _("The replacement is no longer a current standard element."), field="replacement"
            )
    element_workflow.apply(
        current, "retire", acting_user=acting_user, comment=request.reason[:2000]
    )
    return current


def _fill(element: DataElement, content: dict) -> None:
    for name in ELEMENT_FIELDS:
        if name == "code_list":
            continue
        setattr(element, name, content.get(name, ""))
    code = content.get("code_list") or ""
    element.code_list = CodeList.objects.get(identifier=code) if code else None


def _next_identifier() -> str:
    last = DataElement.objects.filter(identifier__regex=GENERATED_IDENTIFIER_RE).aggregate(
        m=Max("identifier")
    )["m"]
    number = int(last[2:]) + 1 if last else 1
    return f"DE{number:05d}"


def _add(request: ElementChangeRequest, *, acting_user: User) -> DataElement:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_IDENTIFIER_LOCK])
    identifier = request.proposal.get("identifier") or ""
    if identifier:
        if DataElement.objects.filter(identifier=identifier).exists():
            raise DomainError(
                _(
                    "The identifier %(identifier)s has been taken since the request was made; return it for another one."
                )
                % {"identifier": identifier}
            )
    else:
        identifier = _next_identifier()
    element = DataElement(
        identifier=identifier,
        version=1,
        status=E.STANDARD,
        submitted_by=request.organization,
        approved_at=today(),
    )
    _fill(element, request.proposal)
    audited_save(element, acting_user=acting_user, reason=ELEMENT_PUBLISHED)
    return element


def _notify_providers(
    request: ElementChangeRequest, result: DataElement, *, acting_user: User
) -> None:
    if request.kind == K.ADD:
        return
    providers = {i.version.resource.provider_id for i in items_using(result.identifier)}
    if not providers:
        return
    if request.kind == K.CHANGE:
        title = _("Data element %(identifier)s %(name)s has a new version %(n)d") % {
            "identifier": result.identifier,
            "name": result.name,
            "n": result.version,
        }
        body = _(
            "Items of your resources use this element. Check whether they should follow the new version."
        )
    else:
        title = _("Data element %(identifier)s %(name)s was retired") % {
            "identifier": result.identifier,
            "name": result.name,
        }
        body = (
            _("Items of your resources use this element. Its replacement is %(replacement)s.")
            % {"replacement": f"{request.replacement.identifier} {request.replacement.name}"}
            if request.replacement_id
            else ""
        )
    notify(
        recipients=[u for u in _filers_of(providers) if u.pk != acting_user.pk],
        title=title,
        body=body,
        url=_element_url(result.identifier),
    )


ELEMENT_MASKING_SET = gettext_noop("Masking rule set")


@transaction.atomic
def element_masking_rule_set(*, element: DataElement, rule, acting_user) -> DataElement:
    """Name the masking rule of an element version (None: no rule). A security decision,
    not a change of the standard: no change request, the element's history records it."""
    from security.masking.permissions import can_manage_rules

    if not can_manage_rules(acting_user):
        raise AccessDenied(_("Only the security administrator manages masking rules."))
    from security.masking.observers import masking_changed

    element = DataElement.objects.select_for_update().get(pk=element.pk)
    changed = element.masking_rule_id != getattr(rule, "pk", None)
    element.masking_rule = rule
    element = audited_save(
        element,
        acting_user=acting_user,
        reason=ELEMENT_MASKING_SET,
        update_fields=["masking_rule"],
        validate=False,
    )
    if changed:
        # Items following the element mask differently: their tables' read functions are
        # remade (security.masking.observers).
        masking_changed(elements=[element], acting_user=acting_user)
    return element
