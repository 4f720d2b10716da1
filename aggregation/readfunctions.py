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

The same job then fills the stored keyed hashes the new masking needs (`stored_hashes_backfill`,
decision "stored-keyed-hash"): a column newly masked by keyed hash gets its companion column
when the functions are made, and its hashes here; until then the functions compute them. The
job `aggregation.stored_hashes_backfill` does the same alone: queued by an incremental load
that mixed two keys, by the hourly sweep (`stored_hashes_sweep`: after the key was rotated,
and for tables made before companions existed) and by `manage.py datastore_read_functions`.
"""

from __future__ import annotations

import logging

from django.db import connection, transaction
from django.db.models import F, Q

from security import zones
from security.masking.observers import MaskingChange
from wuhan_pdr.kernel.jobs import job_enqueue

from . import hashes
from .datastore import (
    as_table_owner,
    masking_rules,
    qualified,
    read_columns,
    read_functions_current,
    read_functions_refresh,
    stored_hashes_due,
    table_columns,
    table_zone,
)
from .models import DatastoreTable

logger = logging.getLogger(__name__)

TASK = "aggregation.read_functions_remake"
BACKFILL_TASK = "aggregation.stored_hashes_backfill"


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
                if table is None:
                    continue
                if not read_functions_current(table):
                    read_functions_refresh(table)
                    remade += 1
            # The stored keyed hashes the new masking needs, in a transaction of their own
            # (the new functions are in force meanwhile, computing what is not stored yet).
            stored_hashes_backfill(table_ids=[table_id])
        except Exception as exc:  # one table's failure must not keep the others stale
            logger.exception("read functions of table %s not remade", table_id)
            failed.append(f"{table_id}: {str(exc).splitlines()[0][:200] if str(exc) else exc!r}")
    if failed:
        raise RuntimeError("read functions not remade for table " + "; ".join(failed))
    return remade


# --- stored keyed hashes --------------------------------------------------------------------


def backfill_enqueue(table_ids: list[int], acting_user=None):
    """Queue the backfill of these tables' stored keyed hashes (sent when this commits)."""
    if not table_ids:
        return None
    return job_enqueue(
        task_name=BACKFILL_TASK, kwargs={"table_ids": sorted(table_ids)}, acting_user=acting_user
    )


def stored_hashes_backfill(*, table_ids: list[int]) -> int:
    """The job: give each of these tables (those still there) the companion columns its
    masking asks for, fill those not current under the key in force (one UPDATE of the
    table), record the key's fingerprint and make the read functions read them, all in one
    transaction under the table's row lock (loads of the table wait). Idempotent. Returns how
    many tables were filled."""
    filled = 0
    for table_id in table_ids:
        with transaction.atomic():
            table = (
                DatastoreTable.objects.select_for_update(of=("self",))
                .select_related("resource")
                .filter(pk=table_id)
                .first()
            )
            if table is None:
                continue
            rules = masking_rules(table.resource)
            if not stored_hashes_due(table, rules):
                continue
            types = {c.name: c.type for c in table_columns(table)}
            if set(hashes.hashed_columns(rules, types)) != set(table.stored_hashes or {}):
                read_functions_refresh(table)  # companion columns as the masking asks
            now = hashes.fingerprint()
            stale = {n: types[n] for n, fp in table.stored_hashes.items() if fp != now}
            if stale:
                hashes.hand_key()
                with (
                    as_table_owner(),
                    zones.zone_role(table_zone(table)),
                    connection.cursor() as cur,
                ):
                    cur.execute(hashes.fill_sql(qualified(table), stale))
                    moved = cur.rowcount
                table.stored_hashes = {**table.stored_hashes, **dict.fromkeys(stale, now)}
                DatastoreTable.objects.filter(pk=table.pk).update(stored_hashes=table.stored_hashes)
                masks = {name: rule.mask for name, rule in rules.items()}
                if moved and zones.page_uses_position(read_columns(table, masks)):
                    # Every row written again moved: pages in storage order start over.
                    DatastoreTable.objects.filter(pk=table.pk).update(
                        generation=F("generation") + 1
                    )
                read_functions_refresh(table)
            filled += 1
    return filled


def stored_hashes_sweep() -> list[int]:
    """Beat (hourly): queue the backfill of every table whose stored keyed hashes are not
    current (the masking key was rotated; a table from before companion columns; a job that
    failed). Returns the ids queued."""
    due = [
        table.pk
        for table in DatastoreTable.objects.select_related("resource").order_by("pk")
        if stored_hashes_due(table)
    ]
    if due:
        with transaction.atomic():
            backfill_enqueue(due)
    return due


def register() -> None:
    from security.masking.observers import register_masking_observer

    register_masking_observer("aggregation.read_functions", on_masking_change)
