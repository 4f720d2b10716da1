"""Masking rule suggestions for a resource's items (issue #13 item 5).

When a resource is filed, `security.masking.detectors` recognises items that hold citizen ID
numbers, mobile numbers, e-mail addresses or bank card numbers (from the item's names and its
data element, and from stored values where the resource already has a loaded table) and
suggests a rule for each item that has none (neither its own nor its element's). The filer
accepts suggestions on the entry's page (`version_masking_accept`).

The catalog does not read the datastore: the aggregation app registers a sample source here
(`register_sample_source`, in its AppConfig.ready): `source(version, items) -> {item pk:
[values as text]}`; the values are read to be recognised, never shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from security.masking.detectors import Detection, detect
from security.masking.models import MaskingRule
from wuhan_pdr.kernel.errors import AccessDenied, DomainError

from .models import DataItem, ResourceVersion
from .permissions import can_file_for

SampleSource = Callable[[ResourceVersion, list[DataItem]], dict[int, list]]
_SOURCES: list[SampleSource] = []


def register_sample_source(source: SampleSource) -> SampleSource:
    """Set the source of stored sample values (the aggregation app's; one datastore)."""
    _SOURCES[:] = [source]
    return source


@dataclass(frozen=True)
class Suggestion:
    item: DataItem
    detection: Detection
    rule: MaskingRule


def suggestions_for(
    version: ResourceVersion, items: list[DataItem] | None = None
) -> list[Suggestion]:
    """A rule for each item of `version` that has none and looks like personal data."""
    if items is None:
        items = list(
            version.items.select_related("element__masking_rule", "masking_rule").order_by(
                "position"
            )
        )
    open_items = [
        i
        for i in items
        if i.masking_rule_id is None and not (i.element_id and i.element.masking_rule_id)
    ]
    if not open_items:
        return []
    samples: dict[int, list] = {}
    for source in _SOURCES:
        try:
            samples = source(version, open_items) or {}
        except Exception:  # noqa: BLE001  (a suggestion never breaks the page)
            samples = {}
    found = []
    for item in open_items:
        element = item.element if item.element_id else None
        detection = detect(
            item.name,
            item.english_name,
            element.name if element else "",
            element.english_name if element else "",
            checksum=element.checksum if element else "",
            fmt=element.format if element else "",
            values=samples.get(item.pk),
        )
        if detection is not None:
            found.append((item, detection))
    rules = {
        r.name: r for r in MaskingRule.objects.filter(name__in={d.rule_name for _i, d in found})
    }
    return [Suggestion(i, d, rules[d.rule_name]) for i, d in found if d.rule_name in rules]


@transaction.atomic
def version_masking_accept(*, version: ResourceVersion, item_ids: list[int], acting_user) -> int:
    """Give the chosen items of an editable draft their suggested rules; how many."""
    if not can_file_for(acting_user, version.resource.provider):
        raise AccessDenied(_("Only the provider's staff may change this entry."))
    version = ResourceVersion.objects.select_for_update().get(pk=version.pk)
    if not version.is_editable:
        raise DomainError(_("Only a draft or a returned entry can be changed."))
    chosen = {int(i) for i in item_ids}
    n = 0
    for s in suggestions_for(version):
        if s.item.pk in chosen:
            DataItem.objects.filter(pk=s.item.pk).update(masking_rule=s.rule)
            n += 1
    return n
