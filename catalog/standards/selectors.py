"""Reads on the data-element standard, restricted to what the viewer may see, with a fixed
number of queries per page whatever the number of rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from wuhan_pdr.accounts.roles import has_role

from ..diff import Change
from ..models import DataItem, ResourceVersion
from ..permissions import FILER_ROLES, catalog_visible_q
from .models import CodeList, CodeValue, DataElement, ElementChangeRequest
from .permissions import change_requests_visible_q
from .services import ELEMENT_FIELDS, LIVE_VERSION_STATES

E = DataElement.Status
K = ElementChangeRequest.Kind
R = ElementChangeRequest.State


def _words(q: str) -> list[str]:
    return [w for w in (q or "").split() if w][:8]


# --- elements -------------------------------------------------------------------------------


@dataclass
class ElementQuery:
    q: str = ""
    status: str = ""
    data_type: str = ""
    classification: str = ""
    include_superseded: bool = False


def element_search(params: ElementQuery) -> QuerySet[DataElement]:
    """Elements matching every word of the search (in the identifier, names, pinyin or
    synonyms) and the filters; by default only the latest version of each identifier."""
    qs = DataElement.objects.select_related("code_list", "submitted_by")
    if not params.include_superseded and params.status != E.SUPERSEDED:
        qs = qs.exclude(status=E.SUPERSEDED)
    for word in _words(params.q):
        qs = qs.filter(
            Q(identifier__icontains=word)
            | Q(name__icontains=word)
            | Q(english_name__icontains=word)
            | Q(pinyin__icontains=word)
            | Q(synonyms__icontains=word)
        )
    if params.status:
        qs = qs.filter(status=params.status)
    if params.data_type:
        qs = qs.filter(data_type=params.data_type)
    if params.classification:
        qs = qs.filter(classification=params.classification)
    return qs.order_by("identifier", "-version")


def element_classifications() -> list[str]:
    """The classifications elements are filed under, for the filter."""
    return list(
        DataElement.objects.exclude(classification="")
        .order_by("classification")
        .values_list("classification", flat=True)
        .distinct()
    )


def current_elements() -> QuerySet[DataElement]:
    """The candidate and standard versions, one per identifier."""
    return DataElement.objects.filter(status__in=[E.CANDIDATE, E.STANDARD]).order_by("identifier")


def element_versions(identifier: str) -> list[DataElement]:
    """Every version of `identifier`, newest first, each with the approved request that
    made it (`made_by`) and, for a retired one, its replacement (`replacement`)."""
    versions = list(
        DataElement.objects.filter(identifier=identifier)
        .select_related("code_list", "submitted_by")
        .order_by("-version")
    )
    if not versions:
        return versions
    made: dict[int, ElementChangeRequest] = {}
    retired: dict[int, ElementChangeRequest] = {}
    for r in (
        ElementChangeRequest.objects.filter(result__in=versions, state=R.APPROVED)
        .select_related("organization", "replacement")
        .order_by("pk")
    ):
        (retired if r.kind == K.RETIRE else made)[r.result_id] = r
    for v in versions:
        v.made_by = made.get(v.pk)
        v.retired_by = retired.get(v.pk)
        v.replacement = v.retired_by.replacement if v.retired_by else None
    return versions


def element_field_values(element: DataElement) -> list[tuple[str, str, str]]:
    """(field name, label, shown value) of each content field of a version."""
    return [(name, _label(name), _display_element(element, name)) for name in ELEMENT_FIELDS]


def _label(name: str) -> str:
    return str(DataElement._meta.get_field(name).verbose_name)


def _display_element(element: DataElement, name: str) -> str:
    if name == "code_list":
        return element.code_list.identifier if element.code_list_id else ""
    field = DataElement._meta.get_field(name)
    if field.choices:
        return str(getattr(element, f"get_{name}_display")())
    return str(getattr(element, name) or "")


def _display_content(content: dict, name: str) -> str:
    value = content.get(name, "") or ""
    field = DataElement._meta.get_field(name)
    if field.choices and name != "code_list":
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


def element_diff(old: DataElement, new: DataElement) -> list[Change]:
    """The content fields that differ between two versions."""
    changes = []
    for name in ELEMENT_FIELDS:
        a, b = _display_element(old, name), _display_element(new, name)
        if a != b:
            changes.append(Change(_label(name), a, b))
    return changes


def proposal_rows(request: ElementChangeRequest) -> list[dict]:
    """For each content field: its label, the current value, the proposed value and
    whether they differ (the two columns of a request's page)."""
    rows = []
    for name in ELEMENT_FIELDS:
        current = _display_element(request.element, name) if request.element_id else ""
        proposed = _display_content(request.proposal, name)
        rows.append(
            {
                "name": name,
                "label": _label(name),
                "current": current,
                "proposed": proposed,
                "changed": bool(request.element_id) and current != proposed,
            }
        )
    return rows


def element_usage(identifier: str, user) -> list[DataItem]:
    """Items bound to any version of `identifier` that `user` may see: those of published
    entries in the viewer's catalog (the open catalog for the public), and those of the
    viewer's own agency's entries in the works."""
    visible = Q(version__state=ResourceVersion.State.PUBLISHED) & catalog_visible_q(
        user, prefix="version"
    )
    if (
        getattr(user, "is_authenticated", False)
        and user.organization_id
        and has_role(user, *FILER_ROLES)
    ):
        visible |= Q(
            version__resource__provider_id=user.organization_id,
            version__state__in=LIVE_VERSION_STATES,
        )
    return list(
        DataItem.objects.filter(visible, element__identifier=identifier)
        .select_related("element", "version__resource__provider")
        .order_by("version__resource__code", "version__number", "position")
    )


def element_events(versions: list[DataElement], workflow) -> list:
    """The recorded status moves of every version (superseded, retired), oldest first, in
    one query; each event carries `label`, `to_label` and `element_version`."""
    from django.contrib.contenttypes.models import ContentType

    from wuhan_pdr.kernel.models import WorkflowEvent

    by_pk = {str(v.pk): v for v in versions}
    statuses = dict(E.choices)
    events = list(
        WorkflowEvent.objects.filter(
            content_type=ContentType.objects.get_for_model(DataElement), object_id__in=list(by_pk)
        )
        .select_related("actor")
        .order_by("created_at", "pk")
    )
    labels = {t.name: t.label for t in workflow}
    for event in events:
        event.label = labels.get(event.transition, event.transition)
        event.from_label = statuses.get(event.from_state, event.from_state)
        event.to_label = statuses.get(event.to_state, event.to_state)
        event.element_version = by_pk[event.object_id].version
    return events


def element_history(identifier: str):
    """The recorded saves of every version of `identifier`, newest first."""
    return (
        DataElement.history.filter(identifier=identifier)
        .select_related("history_user")
        .order_by("-history_date")[:50]
    )


def replacement_of(element: DataElement) -> DataElement | None:
    """The element named as replacement when `element` was retired."""
    if element.status != E.RETIRED:
        return None
    request = (
        ElementChangeRequest.objects.filter(result=element, kind=K.RETIRE, state=R.APPROVED)
        .select_related("replacement")
        .first()
    )
    return request.replacement if request else None


# --- code lists ------------------------------------------------------------------------------


def code_list_search(q: str = "") -> QuerySet[CodeList]:
    qs = CodeList.objects.select_related("owner").annotate(n_values=Count("values"))
    for word in _words(q):
        qs = qs.filter(
            Q(identifier__icontains=word) | Q(name__icontains=word) | Q(source__icontains=word)
        )
    return qs.order_by("identifier")


def code_values_at(code_list: CodeList, *, at: dt.date, q: str = "") -> QuerySet[CodeValue]:
    """The values of `code_list` valid on `at` (a value is valid from its first to its
    last day; an open end is valid for ever)."""
    qs = code_list.values.filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=at),
        Q(valid_to__isnull=True) | Q(valid_to__gte=at),
    )
    for word in _words(q):
        qs = qs.filter(Q(code__icontains=word) | Q(name__icontains=word))
    return qs.order_by("code", "valid_from")


# --- change requests ------------------------------------------------------------------------


def change_requests_for(
    user, *, q: str = "", state: str = "", kind: str = ""
) -> QuerySet[ElementChangeRequest]:
    qs = ElementChangeRequest.objects.filter(change_requests_visible_q(user)).select_related(
        "element", "organization", "requested_by", "result"
    )
    for word in _words(q):
        qs = qs.filter(
            Q(reason__icontains=word)
            | Q(element__identifier__icontains=word)
            | Q(element__name__icontains=word)
            | Q(proposal__name__icontains=word)
            | Q(organization__name__icontains=word)
        )
    if state:
        qs = qs.filter(state=state)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-updated_at", "-pk")


def open_requests_about(identifier: str, user) -> list[ElementChangeRequest]:
    """Requests about `identifier` still in the works that `user` may see."""
    return list(
        ElementChangeRequest.objects.filter(
            change_requests_visible_q(user),
            element__identifier=identifier,
            state__in=[R.DRAFT, R.SUBMITTED, R.RETURNED],
        )
        .select_related("organization")
        .order_by("-pk")
    )
