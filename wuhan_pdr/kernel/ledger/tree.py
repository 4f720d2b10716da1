"""Integration (pending leaves get their index, full tiles are stored, a head is signed) and
the proofs a stored tree answers."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction

from . import heads as heads_mod
from .merkle import (
    EMPTY_ROOT,
    consistency_ranges,
    inclusion_ranges,
    nodes_for,
    range_hash,
    range_nodes,
)
from .store import TILE_HEIGHT, TILE_WIDTH, fold, leaf_hashes_at, node_hashes, tiles_at

logger = logging.getLogger(__name__)


def latest_head(log: str) -> heads_mod.Head | None:
    from .models import LedgerHead

    row = LedgerHead.objects.filter(log=log).order_by("-size").first()
    return heads_mod.Head.from_model(row) if row else None


def tree_size(log: str) -> int:
    head = latest_head(log)
    return head.size if head else 0


def root_hash(log: str, size: int) -> bytes:
    """MTH of the log's first `size` leaves, from the stored tiles (O(log n) hashes)."""
    if size == 0:
        return EMPTY_ROOT
    return range_hash(0, size, node_hashes(log, range_nodes(0, size), size))


def _existing_bottom(log: str, t_level: int, first: int, count: int) -> list[bytes]:
    """The hashes of tree level 4*t_level at [first, count): the start of the partial tile."""
    if first >= count:
        return []
    if t_level == 0:
        found = leaf_hashes_at(log, range(first, count))
        return [found[i] for i in range(first, count)]
    below = tiles_at(log, [(t_level - 1, j) for j in range(first, count)])
    return [fold(below[(t_level - 1, j)]) for j in range(first, count)]


# The batch: the `limit` pending leaves of the log with the lowest ids, found by the primary
# key (log, leaf_id) and deleted by their row addresses (a TID scan): no plan reads the whole
# queue, whatever the statistics say of it.
_TAKE_PENDING = """
DELETE FROM kernel_ledgerpending WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM kernel_ledgerpending WHERE log = %(log)s ORDER BY leaf_id LIMIT %(limit)s
)) RETURNING leaf_id, leaf_hash
"""


def _copy_text(value: str) -> str:
    """A text value as COPY's text format writes it."""
    for char, escaped in (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r")):
        value = value.replace(char, escaped)
    return value


def _integrate_batch(log: str, limit: int) -> tuple[heads_mod.Head, int] | None:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"kernel.ledger.{log}"])
        size = tree_size(log)
        cur.execute(_TAKE_PENDING, {"log": log, "limit": limit})
        rows = cur.fetchall()
        if not rows:
            return None
        rows.sort()  # by leaf id: the order of the indexes
        raw = cur.cursor  # psycopg's own cursor: COPY
        new_size = size + len(rows)
        # The index rows, written with COPY (one WAL record per page of rows, not per row),
        # its text built in one join.
        name = _copy_text(log)
        with raw.copy("COPY kernel_ledgerindex (log, idx, leaf_id) FROM STDIN") as copy:
            step = 10_000
            for start in range(0, len(rows), step):
                copy.write(
                    "".join(
                        f"{name}\t{size + start + i}\t{leaf_id}\n"
                        for i, (leaf_id, _h) in enumerate(rows[start : start + step])
                    )
                )
        bottom = [h for (_id, h) in rows]  # bytea arrives as bytes
        tiles = []
        t_level, count_before = 0, size
        sha256 = hashlib.sha256
        while bottom:
            first = count_before - count_before % TILE_WIDTH
            row = _existing_bottom(log, t_level, first, count_before) + bottom
            full = row[: len(row) - len(row) % TILE_WIDTH]
            for start in range(0, len(full), TILE_WIDTH):
                data = b"".join(full[start : start + TILE_WIDTH])
                tiles.append((t_level, (first + start) // TILE_WIDTH, data))
            # the roots of the full tiles, level by level over the whole batch at once
            for _ in range(TILE_HEIGHT):
                full = [
                    sha256(b"\x01" + full[i] + full[i + 1]).digest() for i in range(0, len(full), 2)
                ]
            bottom = full
            t_level, count_before = t_level + 1, count_before >> TILE_HEIGHT
        if tiles:
            with raw.copy("COPY kernel_ledgertile (log, level, tile, hashes) FROM STDIN") as copy:
                for start in range(0, len(tiles), 2_000):
                    copy.write(
                        "".join(
                            f"{name}\t{t_level}\t{tile}\t\\\\x{data.hex()}\n"
                            for t_level, tile, data in tiles[start : start + 2_000]
                        )
                    )
    head = heads_mod.sign(log, new_size, root_hash(log, new_size), int(time.time() * 1000))
    from .models import LedgerHead

    LedgerHead.objects.create(
        log=head.log,
        size=head.size,
        root_hash=head.root_hash,
        timestamp_ms=head.timestamp_ms,
        key_id=head.key_id,
        signature=head.signature,
    )
    return head, len(rows)


def export_missing(log: str) -> int:
    """Append to the log's file the heads the database has beyond the file's last one (a
    crash between a commit and its export is caught up here)."""
    from .models import LedgerHead

    rows = LedgerHead.objects.filter(log=log, size__gt=heads_mod.last_exported_size(log))
    heads = [heads_mod.Head.from_model(row) for row in rows.order_by("size")]
    heads_mod.export(heads)
    return len(heads)


def integrate(log: str, *, batch: int | None = None) -> int:
    """Integrate every pending leaf of `log`, one transaction (and one signed head) per batch;
    returns how many leaves got their index."""
    batch = batch or settings.LEDGER_INTEGRATE_BATCH
    done = 0
    export_missing(log)
    while True:
        with transaction.atomic():
            result = _integrate_batch(log, batch)
            if result is None:
                return done
            head, count = result
            done += count
            transaction.on_commit(lambda head=head: heads_mod.export([head]))


@dataclass(frozen=True)
class InclusionProof:
    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    path: list[bytes]


def leaf_position(leaf_id: int) -> tuple[str, int] | None:
    """(log, index) of an integrated leaf, None while it is pending."""
    from .models import LedgerIndex

    row = LedgerIndex.objects.filter(leaf_id=leaf_id).values_list("log", "idx").first()
    return tuple(row) if row else None


def inclusion_proof(log: str, index: int, size: int | None = None) -> InclusionProof:
    """RFC 9162 2.1.3.1 audit path of leaf `index` in the tree of `size` (default: the last
    signed head); O(log n) stored hashes in two queries."""
    size = tree_size(log) if size is None else size
    ranges = inclusion_ranges(index, size)
    nodes = node_hashes(log, nodes_for([*ranges, (index, index + 1)]), size)
    return InclusionProof(
        index,
        size,
        nodes[(0, index)],
        [range_hash(start, end, nodes) for start, end in ranges],
    )


def consistency_proof(log: str, first: int, second: int | None = None) -> list[bytes]:
    """RFC 9162 2.1.4.1 proof that the tree of `first` leaves is a prefix of the tree of
    `second` (default: the last signed head); O(log n) stored hashes."""
    second = tree_size(log) if second is None else second
    ranges = consistency_ranges(first, second)
    nodes = node_hashes(log, nodes_for(ranges), second)
    return [range_hash(start, end, nodes) for start, end in ranges]
