"""Stored data that an element change would make invalid (Art. 9).

A change request's impact names the catalog items bound to the element (services.element_impact)
and, for a proposed change, how many values stored in their datastore columns would fail the
proposed format or value domain. The catalog does not know the datastore: the aggregation app
registers a counter here (`register_stored_data_counter`, in its AppConfig.ready), and the
count runs as a durable job on the `long` queue (`impact_count_enqueue`). The job writes all
of a request's `ElementImpactCount` rows in one transaction at the end, so a failed count
leaves the previous one in place; the page shows the failure next to it.

A counter is an object with two methods:

    count(element, items) -> list[ColumnCount]
        `element` is the proposed (unsaved) DataElement, `items` the DataItems bound to the
        element in the published version of each resource. Samples must come masked as the
        data preview masks them.
    may_see_samples(user, resource) -> bool
        whether `user` may see stored values of `resource` (the data preview's rule).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from wuhan_pdr.kernel.errors import AccessDenied, DomainError
from wuhan_pdr.kernel.jobs import job_enqueue
from wuhan_pdr.kernel.models import BackgroundJob

from ..models import DataItem
from .models import CodeList, DataElement, ElementChangeRequest, ElementImpactCount
from .permissions import is_city_reviewer

TASK_NAME = "catalog.standards_impact_count"
SAMPLES = 5  # distinct failing values kept per column

R = ElementChangeRequest.State
K = ElementChangeRequest.Kind


@dataclass
class ColumnCount:
    resource_id: int
    item_id: int | None
    item_name: str
    column: str = ""
    stored: bool = False  # the resource has a datastore table holding this column
    checked: int = 0  # non-empty stored values
    failing: int = 0
    # [{"value": masked or plain value, "count": rows, "message": why it fails}]
    samples: list[dict] = field(default_factory=list)


class StoredDataCounter(Protocol):
    def count(self, element: DataElement, items: list[DataItem]) -> list[ColumnCount]: ...

    def may_see_samples(self, user, resource) -> bool: ...


_COUNTERS: list[StoredDataCounter] = []


def register_stored_data_counter(counter: StoredDataCounter) -> StoredDataCounter:
    """Set the counter of stored values (the aggregation app's). Registering again replaces
    it: there is one datastore."""
    _COUNTERS[:] = [counter]
    return counter


def unregister_stored_data_counter(counter: StoredDataCounter) -> None:
    if counter in _COUNTERS:
        _COUNTERS.remove(counter)


def stored_data_counter() -> StoredDataCounter | None:
    return _COUNTERS[0] if _COUNTERS else None


def proposed_element(change_request: ElementChangeRequest) -> DataElement:
    """The element as the request proposes it (not saved)."""
    from .services import ELEMENT_FIELDS

    proposal = change_request.proposal or {}
    element = DataElement(
        identifier=change_request.element.identifier if change_request.element_id else "",
        version=(change_request.element.version + 1) if change_request.element_id else 1,
    )
    for name in ELEMENT_FIELDS:
        if name != "code_list":
            setattr(element, name, proposal.get(name, ""))
    code = proposal.get("code_list") or ""
    element.code_list = CodeList.objects.filter(identifier=code).first() if code else None
    return element


def bound_published_items(identifier: str) -> list[DataItem]:
    """Items bound to any version of `identifier` in the published version of a resource:
    the ones whose columns hold the stored data."""
    return list(
        DataItem.objects.filter(
            element__identifier=identifier,
            version__resource__published_version=F("version"),
        )
        .select_related("version__resource")
        .order_by("version__resource__code", "position")
    )


def counts_apply(change_request: ElementChangeRequest) -> bool:
    """Only a proposed change has a new format or value domain to count against."""
    return change_request.kind == K.CHANGE and change_request.element_id is not None


# --- the job ----------------------------------------------------------------------------------


def impact_count_enqueue(*, change_request: ElementChangeRequest, acting_user) -> BackgroundJob:
    """Record a count job for the request (run after the caller's transaction commits)."""
    job = job_enqueue(
        task_name=TASK_NAME, kwargs={"request_id": change_request.pk}, acting_user=acting_user
    )
    ElementChangeRequest.objects.filter(pk=change_request.pk).update(impact_job=job)
    change_request.impact_job = job
    return job


@transaction.atomic
def impact_recount(*, change_request: ElementChangeRequest, acting_user) -> BackgroundJob:
    """A reviewer asks for a new count of a submitted request (e.g. after new loads)."""
    if not is_city_reviewer(acting_user):
        raise AccessDenied(_("Only a reviewer of the city data bureau may recount."))
    request = ElementChangeRequest.objects.select_for_update().get(pk=change_request.pk)
    if request.state != R.SUBMITTED or not counts_apply(request):
        raise DomainError(_("Stored data is counted only for a submitted change request."))
    if request.impact_job_id and (
        BackgroundJob.objects.filter(
            pk=request.impact_job_id,
            state__in=[BackgroundJob.State.PENDING, BackgroundJob.State.RUNNING],
        ).exists()
    ):
        raise DomainError(_("The stored data is being counted already."))
    return impact_count_enqueue(change_request=request, acting_user=acting_user)


def impact_count_run(*, request_id: int) -> int:
    """Count now and replace the request's counts. Returns the number of failing values."""
    request = ElementChangeRequest.objects.select_related("element").filter(pk=request_id).first()
    if request is None or not counts_apply(request):
        return 0
    counter = stored_data_counter()
    if counter is None:
        raise RuntimeError("no stored-data counter is registered (is aggregation installed?)")
    counted_at = timezone.now()
    element = proposed_element(request)
    columns = counter.count(element, bound_published_items(request.element.identifier))
    with transaction.atomic():
        ElementImpactCount.objects.filter(change_request_id=request.pk).delete()
        ElementImpactCount.objects.bulk_create(
            ElementImpactCount(
                change_request_id=request.pk,
                resource_id=c.resource_id,
                item_id=c.item_id,
                item_name=c.item_name[:200],
                column=c.column,
                stored=c.stored,
                checked=c.checked,
                failing=c.failing,
                samples=c.samples[:SAMPLES],
                counted_at=counted_at,
            )
            for c in columns
        )
        ElementChangeRequest.objects.filter(pk=request.pk).update(impact_counted_at=counted_at)
    return sum(c.failing for c in columns)


# --- what a page shows --------------------------------------------------------------------------


@dataclass
class ImpactCountView:
    applies: bool
    state: str  # "none" (never counted), "counting", "failed", "done"
    counted_at: object = None
    rows: list[dict] = field(default_factory=list)
    failing: int = 0
    checked: int = 0
    error: str = ""
    can_recount: bool = False

    @property
    def counting(self) -> bool:
        return self.state == "counting"


def _shown(sample: dict) -> dict:
    """A stored sample with its message in the active language."""
    messages = sample.get("messages") or {}
    language = translation.get_language() or settings.LANGUAGE_CODE
    message = messages.get(language) or messages.get(settings.LANGUAGE_CODE) or ""
    return {"value": sample.get("value", ""), "count": sample.get("count", 0), "message": message}


def impact_count_view(change_request: ElementChangeRequest, user) -> ImpactCountView:
    """The stored-data count of `change_request` as `user` may see it: counts for everyone
    who reads the request, samples only where the user may preview the resource."""
    if not counts_apply(change_request):
        return ImpactCountView(applies=False, state="none")
    job = (
        BackgroundJob.objects.filter(pk=change_request.impact_job_id).first()
        if change_request.impact_job_id
        else None
    )
    state = "done" if change_request.impact_counted_at else "none"
    error = ""
    if job is not None:
        if job.state in (BackgroundJob.State.PENDING, BackgroundJob.State.RUNNING):
            state = "counting"
            error = job.last_error  # an attempt failed; it will be tried again
        elif job.state == BackgroundJob.State.FAILED:
            state = "failed"
            error = job.last_error or _("The count failed.")
    counter = stored_data_counter()
    rows = []
    for count in ElementImpactCount.objects.filter(change_request=change_request).select_related(
        "resource__published_version"
    ):
        visible = counter is not None and counter.may_see_samples(user, count.resource)
        rows.append(
            {
                "resource": count.resource,
                "resource_name": count.resource.published_version.name
                if count.resource.published_version_id
                else count.resource.code,
                "item_name": count.item_name,
                "column": count.column,
                "stored": count.stored,
                "checked": count.checked,
                "failing": count.failing,
                "samples": [_shown(s) for s in count.samples] if visible else [],
                "samples_hidden": bool(count.samples) and not visible,
            }
        )
    return ImpactCountView(
        applies=True,
        state=state,
        counted_at=change_request.impact_counted_at,
        rows=rows,
        failing=sum(r["failing"] for r in rows),
        checked=sum(r["checked"] for r in rows),
        error=error,
        can_recount=change_request.state == R.SUBMITTED
        and is_city_reviewer(user)
        and state != "counting",
    )
