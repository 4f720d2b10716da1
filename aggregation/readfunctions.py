"""A masking change remakes the read functions of the tables it touches (decision 0014).

The datastore tables' masked SECURITY DEFINER functions (security/zones.py) mask with the
rules they were made with. When the security administrator changes a masking rule or a data
element's rule, or a new version of a resource is published (its items' rules may differ),
`security.masking.observers.masking_changed` calls `on_masking_change`, which finds the tables
concerned and queues the durable job `aggregation.read_functions_remake` in the same
transaction (sent when it commits). The job runs in the worker, whose role may take the zone
roles: each table, in a transaction of its own, under its row lock (so it waits for a load or a
move of that table to finish and then sees its current schema and name), gets new functions
if they no longer mask as its published version asks. Until the job ran, readers mask the
changed columns again in Python (never less masked than either rule asks).
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Q

from security.masking.observers import MaskingChange
from wuhan_pdr.kernel.jobs import job_enqueue

from .datastore import read_functions_current, read_functions_refresh
from .models import DatastoreTable

logger = logging.getLogger(__name__)

TASK = "aggregation.read_functions_remake"


def tables_affected(change: MaskingChange) -> list[int]:
    """Ids of the tables whose published items use a changed rule (their own or their data
    element's), follow a changed element, or belong to a changed resource."""
    items = "resource__published_version__items__"
    q = Q()
    if change.rule_ids:
        q |= Q(**{f"{items}masking_rule_id__in": change.rule_ids})
        q |= Q(**{f"{items}element__masking_rule_id__in": change.rule_ids})
    if change.element_ids:
        q |= Q(**{f"{items}element_id__in": change.element_ids})
    if change.resource_ids:
        q |= Q(resource_id__in=change.resource_ids)
    if not q:
        return []
    return sorted(set(DatastoreTable.objects.filter(q).values_list("pk", flat=True)))


def on_masking_change(change: MaskingChange):
    """The observer registered with security.masking: queue the remake of the tables
    concerned (nothing when there is none). Returns the job or None."""
    table_ids = tables_affected(change)
    if not table_ids:
        return None
    return job_enqueue(
        task_name=TASK, kwargs={"table_ids": table_ids}, acting_user=change.acting_user
    )


def read_functions_remake(*, table_ids: list[int]) -> int:
    """The job: give each of these tables (those still there) functions that mask as its
    published version asks, where they do not already. Idempotent. Returns how many tables
    got new functions; raises after trying every table if one failed (the job is marked
    failed with the first error)."""
    remade = 0
    failed: list[str] = []
    for table_id in table_ids:
        try:
            with transaction.atomic():
                table = (
                    DatastoreTable.objects.select_for_update(of=("self",))
                    .select_related("resource")
                    .filter(pk=table_id)
                    .first()
                )
                if table is None or read_functions_current(table):
                    continue
                read_functions_refresh(table)
                remade += 1
        except Exception as exc:  # one table's failure must not keep the others stale
            logger.exception("read functions of table %s not remade", table_id)
            failed.append(f"{table_id}: {str(exc).splitlines()[0][:200] if str(exc) else exc!r}")
    if failed:
        raise RuntimeError("read functions not remade for table " + "; ".join(failed))
    return remade


def register() -> None:
    from security.masking.observers import register_masking_observer

    register_masking_observer("aggregation.read_functions", on_masking_change)
