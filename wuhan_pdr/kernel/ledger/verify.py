"""Checking a log from scratch (`manage.py ledger_verify`, the auditor page's status): every
leaf hash against its stored entry, the index without holes, every stored tile, every signed
head (signature and root) and every head exported outside the database. The first problem is
named; O(n) time, 32 bytes of memory per leaf."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from django.db import connections
from django.utils import timezone
from django.utils.translation import gettext as _

from . import LOGS, leaf_hash_of
from . import heads as heads_mod
from .merkle import EMPTY_ROOT, node_hash
from .store import TILE_HEIGHT, TILE_WIDTH

# A head signed this recently may still be on its way to the file (exported after commit).
EXPORT_GRACE = dt.timedelta(minutes=5)


@dataclass
class Report:
    log: str
    size: int = 0
    last_head: heads_mod.Head | None = None
    problems: list[str] = field(default_factory=list)
    checked_entries: int = 0
    pruned_entries: int = 0
    exported_heads: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, message: str) -> None:
        self.problems.append(f"{self.log}: {message}")


class _Frontier:
    """The complete subtrees at the right edge of a growing tree: the root at any size, and
    every node as it completes (for the tiles)."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, bytes]] = []  # (level, hash), levels decreasing
        self.count = 0

    def push(self, leaf: bytes, on_node) -> None:
        level, h, index = 0, leaf, self.count
        on_node(0, index, h)
        while self.stack and self.stack[-1][0] == level:
            _, left = self.stack.pop()
            h, level, index = node_hash(left, h), level + 1, index >> 1
            on_node(level, index, h)
        self.stack.append((level, h))
        self.count += 1

    def root(self) -> bytes:
        if not self.stack:
            return EMPTY_ROOT
        r = self.stack[-1][1]
        for _level, h in reversed(self.stack[:-1]):
            r = node_hash(h, r)
        return r


_LEAVES_SQL = """
SELECT i.idx, l.id, l.leaf_hash, e.entry, e.details::text
FROM kernel_ledgerindex i
JOIN kernel_ledgerleaf l ON l.id = i.leaf_id
LEFT JOIN kernel_ledgerentry e ON e.leaf_id = l.id
WHERE i.log = %s ORDER BY i.idx
"""


def _between(first: int, end: int) -> str:
    if end - first == 1:
        return _("entry %(index)s") % {"index": first}
    return _("an entry from %(first)s to %(last)s") % {"first": first, "last": end - 1}


def _unknown_key(head, *, exported: bool) -> str:
    """The problem when `head` names a key the ring does not hold ("" when it holds it)."""
    if head.key_id in heads_mod.verification_keys():
        return ""
    values = {"size": head.size, "key": head.key_id[:64]}
    if exported:
        return (
            _(
                "the exported head at size %(size)s has a bad signature: it names key %(key)s,"
                " neither the current key nor one of LEDGER_PREVIOUS_PUBLIC_KEYS"
            )
            % values
        )
    return (
        _(
            "the signed head at size %(size)s has a bad signature: it names key %(key)s,"
            " neither the current key nor one of LEDGER_PREVIOUS_PUBLIC_KEYS"
        )
        % values
    )


def verify_log(log: str, *, using: str = "default") -> Report:
    from .models import LedgerHead

    report = Report(log)
    conn = connections[using]
    db_heads = [
        heads_mod.Head.from_model(row)
        for row in LedgerHead.objects.using(using).filter(log=log).order_by("size")
    ]
    signed_at = {
        row.size: row.created_at for row in LedgerHead.objects.using(using).filter(log=log)
    }
    report.last_head = db_heads[-1] if db_heads else None
    try:
        exported = heads_mod.exported(log)
    except ValueError as exc:
        exported = []
        report.fail(_("the exported heads cannot be read: %(error)s") % {"error": exc})
    report.exported_heads = len(exported)
    wanted_sizes = {h.size for h in db_heads} | {h.size for h in exported}
    roots: dict[int, bytes] = {}
    if 0 in wanted_sizes:
        roots[0] = EMPTY_ROOT

    stored_tiles: dict[tuple[int, int], bytes] = {}
    with conn.cursor() as cur:
        cur.execute("SELECT level, tile, hashes FROM kernel_ledgertile WHERE log = %s", [log])
        for level, tile, data in cur.fetchall():
            stored_tiles[(level, tile)] = bytes(data)
    rows_of_tiles: dict[tuple[int, int], list[bytes]] = {}
    bad_tiles: list[tuple[int, int]] = []

    def on_node(level: int, index: int, h: bytes) -> None:
        if level % TILE_HEIGHT:
            return
        key = (level // TILE_HEIGHT, index // TILE_WIDTH)
        row = rows_of_tiles.setdefault(key, [])
        row.append(h)
        if len(row) == TILE_WIDTH:
            del rows_of_tiles[key]
            if stored_tiles.pop(key, None) != b"".join(row):
                bad_tiles.append(key)

    frontier = _Frontier()
    first_bad: str | None = None
    with conn.cursor() as cur:
        cur.execute(_LEAVES_SQL, [log])
        expected = 0
        seen_leaves: set[int] = set()
        while batch := cur.fetchmany(10_000):
            for idx, leaf_id, stored_hash, entry, details in batch:
                stored_hash = bytes(stored_hash)
                if leaf_id in seen_leaves and first_bad is None:
                    first_bad = _("leaf #%(leaf)s is in the tree twice (entry %(index)s)") % {
                        "leaf": leaf_id,
                        "index": idx,
                    }
                seen_leaves.add(leaf_id)
                if idx != expected and first_bad is None:
                    first_bad = _("the index has a hole or repeat at %(expected)s") % {
                        "expected": expected
                    }
                expected = idx + 1
                if entry is None:
                    report.pruned_entries += 1
                else:
                    report.checked_entries += 1
                    data = bytes(entry)
                    details_value = None if details is None else json.loads(details)
                    if leaf_hash_of(data, details_value) != stored_hash and first_bad is None:
                        first_bad = _(
                            "entry %(index)s (leaf #%(leaf)s) does not match its leaf hash:"
                            " the entry or the hash was changed"
                        ) % {"index": idx, "leaf": leaf_id}
                frontier.push(stored_hash, on_node)
                if bad_tiles and first_bad is None:
                    level, tile = bad_tiles[0]
                    first_bad = _(
                        "the stored tile %(level)s/%(tile)s does not match the leaves"
                        " (entries %(first)s..%(last)s)"
                    ) % {
                        "level": level,
                        "tile": tile,
                        "first": (tile * TILE_WIDTH) << (TILE_HEIGHT * level),
                        "last": (((tile + 1) * TILE_WIDTH) << (TILE_HEIGHT * level)) - 1,
                    }
                if frontier.count in wanted_sizes:
                    roots[frontier.count] = frontier.root()
    report.size = frontier.count
    if first_bad:
        report.fail(first_bad)
    if stored_tiles:
        report.fail(_("%(count)s stored tile(s) beyond the leaves") % {"count": len(stored_tiles)})

    with conn.cursor() as cur:
        cur.execute(
            "SELECT l.id FROM kernel_ledgerleaf l WHERE l.log = %s"
            " AND NOT EXISTS (SELECT 1 FROM kernel_ledgerindex i WHERE i.leaf_id = l.id)"
            " AND NOT EXISTS (SELECT 1 FROM kernel_ledgerpending p WHERE p.leaf_id = l.id)"
            " ORDER BY l.id LIMIT 1",
            [log],
        )
        lost = cur.fetchone()
        if lost:
            report.fail(_("leaf #%(leaf)s is neither in the tree nor pending") % {"leaf": lost[0]})

    # Each head is checked with the key its key id names: the current key or one listed in
    # LEDGER_PREVIOUS_PUBLIC_KEYS (heads signed before a rotation).
    previous_ok = 0
    for head in db_heads:
        if not heads_mod.signature_ok(head):
            report.fail(
                _unknown_key(head, exported=False)
                or _("the signed head at size %(size)s has a bad signature") % {"size": head.size}
            )
            break
        if head.size > report.size:
            report.fail(
                _("the signed head at size %(size)s is beyond the tree (%(tree)s)")
                % {"size": head.size, "tree": report.size}
            )
            break
        if roots.get(head.size) != head.root_hash:
            report.fail(
                _(
                    "the signed head at size %(size)s does not match the tree: %(entries)s was changed"
                )
                % {"size": head.size, "entries": _between(previous_ok, head.size)}
            )
            break
        previous_ok = head.size

    previous_ok = 0
    for head in exported:
        if head.log != log or not heads_mod.signature_ok(head):
            report.fail(
                (head.log == log and _unknown_key(head, exported=True))
                or _("the exported head at size %(size)s has a bad signature") % {"size": head.size}
            )
            break
        if head.size > report.size:
            report.fail(
                _(
                    "the exported head at size %(size)s is beyond the tree (%(tree)s): leaves were removed"
                )
                % {"size": head.size, "tree": report.size}
            )
            break
        if roots.get(head.size) != head.root_hash:
            report.fail(
                _(
                    "the exported head at size %(size)s does not match the database: the tree"
                    " was rewritten, %(entries)s differs from what was signed then"
                )
                % {"size": head.size, "entries": _between(previous_ok, head.size)}
            )
            break
        previous_ok = head.size
    exported_sizes = {h.size for h in exported}
    stale = [
        h.size
        for h in db_heads
        if h.size not in exported_sizes and timezone.now() - signed_at[h.size] > EXPORT_GRACE
    ]
    if stale:
        report.fail(
            _("%(count)s signed head(s) missing from the exported file, first at size %(size)s")
            % {"count": len(stale), "size": stale[0]}
        )
    return report


def ledger_verify(logs: list[str] | None = None, *, using: str = "default") -> list[Report]:
    return [verify_log(log, using=using) for log in (logs or list(LOGS))]


def ledger_status(log: str) -> tuple[bool, str, int, heads_mod.Head | None]:
    """(ok, message, size, last signed head) for a page; a full check (O(n))."""
    report = verify_log(log)
    if report.ok:
        message = _("%(log)s: %(count)s entries verified") % {"log": log, "count": report.size}
    else:
        message = report.problems[0]
    return report.ok, message, report.size, report.last_head


def ledger_roots(*, using: str = "default") -> dict[str, dict]:
    """The last signed head of every log (size and root): what a backup's restore drill
    compares between the dump's snapshot and the restored database."""
    from .models import LedgerHead

    result = {}
    for log in LOGS:
        row = LedgerHead.objects.using(using).filter(log=log).order_by("-size").first()
        result[log] = {
            "size": row.size if row else 0,
            "root_hash": bytes(row.root_hash).hex() if row else EMPTY_ROOT.hex(),
        }
    return result
