"""Writing the checked resources of a workbook as drafts, in bulk.

The per-resource service (`catalog.services.resource_draft_create`) costs about 120 queries
a resource; a workbook of 5,000 resources and 50,000 items would take minutes. This writes
the same rows with a few bulk inserts inside the caller's transaction:

- resource codes are allocated as the service does (classification code + next sequence),
  under the same row lock on each classification (`SELECT ... FOR UPDATE`, taken in a fixed
  order), so a concurrent filing through the form or another workbook waits instead of
  drawing the same number;
- versions are number 1 in state draft, with the content fields, themes and related
  resources the form would set, created by the uploader; no workflow event (the service
  records none for a new draft) and no catalog entry (drafts have none);
- each version gets the history row the service's `audited_save` writes ("+", the uploader,
  reason "Entry filed", like the form), with the themes and related resources it was created with;
- items get their positions in the order of their rows, as the formset's order does.
"""

from __future__ import annotations

from collections.abc import Callable

from django.apps import apps
from django.db.models import Max
from django.utils import timezone

from ..models import Classification, DataItem, Resource, ResourceVersion
from ..services import RESOURCE_FILED, VERSION_FIELDS
from .checks import ParsedResource

BATCH = 2000
ITEM_FIELDS = (
    "name",
    "english_name",
    "data_type",
    "length",
    "is_key",
    "is_update_flag",
    "nullable",
    "grade",
    "masking_rule",
    "description",
)


def _allocate(parsed: list[ParsedResource]) -> dict[int, int]:
    """Lock the classifications used (as `services._next_sequence` does) and return the
    last sequence number of each."""
    ids = sorted({r.classification.pk for r in parsed})
    list(
        Classification.objects.select_for_update()
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return dict(
        Resource.objects.filter(classification_id__in=ids)
        .values("classification_id")
        .annotate(m=Max("sequence"))
        .values_list("classification_id", "m")
    )


def _history(versions: list[ResourceVersion], user, now, themes: list, related: list) -> None:
    """The "+" history row of each version, with the themes and related resources it holds
    (simple_history copies the through rows, ids included, into its m2m history tables)."""
    rows = ResourceVersion.history.bulk_history_create(
        versions,
        batch_size=BATCH,
        default_user=user,
        default_change_reason=RESOURCE_FILED,
        default_date=now,
    )
    record_of = {row.id: row for row in rows}
    for through_rows, model_name, other in (
        (themes, "HistoricalResourceVersion_themes", "classification_id"),
        (related, "HistoricalResourceVersion_related_resources", "resource_id"),
    ):
        model = apps.get_model("catalog", model_name)
        model.objects.bulk_create(
            [
                model(
                    history=record_of[t.resourceversion_id],
                    id=t.pk,
                    resourceversion_id=t.resourceversion_id,
                    **{other: getattr(t, other)},
                )
                for t in through_rows
            ],
            batch_size=BATCH,
        )


def import_drafts(
    *,
    parsed: list[ParsedResource],
    provider,
    acting_user,
    progress: Callable[[float], None] | None = None,
) -> list[Resource]:
    """Create every parsed resource as a draft of `provider`. Call inside a transaction."""
    now = timezone.now()
    last = _allocate(parsed)
    resources = []
    for r in parsed:
        c = r.classification
        sequence = last.get(c.pk, 0) + 1
        last[c.pk] = sequence
        resources.append(
            Resource(
                code=f"{c.code}/{sequence:06d}",
                provider=provider,
                classification=c,
                sequence=sequence,
                created_by=acting_user,
            )
        )
    Resource.objects.bulk_create(resources, batch_size=BATCH)
    if progress:
        progress(0.15)

    versions = []
    for resource, r in zip(resources, parsed, strict=True):
        version = ResourceVersion(
            resource=resource,
            number=1,
            state=ResourceVersion.State.DRAFT,
            created_by=acting_user,
        )
        for name in VERSION_FIELDS:
            if name in r.fields and r.fields[name] is not None:
                setattr(version, name, r.fields[name])
        versions.append(version)
    ResourceVersion.objects.bulk_create(versions, batch_size=BATCH)
    if progress:
        progress(0.3)

    Themes = ResourceVersion.themes.through
    Related = ResourceVersion.related_resources.through
    themes = Themes.objects.bulk_create(
        [
            Themes(resourceversion_id=v.pk, classification_id=t.pk)
            for v, r in zip(versions, parsed, strict=True)
            for t in r.themes
        ],
        batch_size=BATCH,
    )
    related = Related.objects.bulk_create(
        [
            Related(resourceversion_id=v.pk, resource_id=x.pk)
            for v, r in zip(versions, parsed, strict=True)
            for x in r.related
        ],
        batch_size=BATCH,
    )
    _history(versions, acting_user, now, themes, related)
    if progress:
        progress(0.45)

    items = []
    done = 0
    total = sum(len(r.items) for r in parsed) or 1
    for v, r in zip(versions, parsed, strict=True):
        for position, item in enumerate(r.items, start=1):
            f = item.fields
            items.append(
                DataItem(
                    version_id=v.pk,
                    position=position,
                    name=f.get("name") or "",
                    english_name=f.get("english_name") or "",
                    data_type=f["data_type"],
                    length=f.get("length"),
                    is_key=bool(f.get("is_key")),
                    is_update_flag=bool(f.get("is_update_flag")),
                    nullable=True if f.get("nullable") is None else bool(f["nullable"]),
                    grade=f.get("grade"),
                    masking_rule=f.get("masking_rule"),
                    description=f.get("description") or "",
                    element_id=f.get("element"),
                )
            )
        if len(items) >= BATCH * 5:
            DataItem.objects.bulk_create(items, batch_size=BATCH)
            done += len(items)
            items = []
            if progress:
                progress(0.45 + 0.5 * done / total)
    DataItem.objects.bulk_create(items, batch_size=BATCH)
    if progress:
        progress(0.95)
    return resources
