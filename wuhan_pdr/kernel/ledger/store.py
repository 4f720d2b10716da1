"""The tree's storage: tiles of node hashes, as Go's transparency logs (tlog) keep them.

A tile (level T, index t) holds the 16 hashes of tree level 4T at indexes 16t .. 16t+15 (its
bottom row; the 4 levels above are hashed from it). Only full tiles are stored, once. A
complete subtree (node) of level l = 4T + r is hashed from at most 16 stored hashes: from the
full tile that holds it, or, at the tree's right edge, from the leaves (T = 0) or the roots of
the full tiles one level down. Every hash a proof needs is fetched in two queries."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from .merkle import Node, node_hash

TILE_HEIGHT = 4
TILE_WIDTH = 1 << TILE_HEIGHT
HASH_SIZE = 32


def fold(hashes: list[bytes]) -> bytes:
    """The root of a complete subtree from its bottom row (a power of two of hashes)."""
    while len(hashes) > 1:
        hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0]


def split_tile(data: bytes) -> list[bytes]:
    data = bytes(data)
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def tile_is_full(level: int, tile: int, size: int) -> bool:
    return ((tile + 1) * TILE_WIDTH) << (TILE_HEIGHT * level) <= size


def leaf_hashes_at(log: str, indexes: Iterable[int]) -> dict[int, bytes]:
    indexes = sorted(set(indexes))
    if not indexes:
        return {}
    with connection.cursor() as cur:
        cur.execute(
            "SELECT i.idx, l.leaf_hash FROM kernel_ledgerindex i"
            " JOIN kernel_ledgerleaf l ON l.id = i.leaf_id"
            " WHERE i.log = %s AND i.idx = ANY(%s)",
            [log, indexes],
        )
        return {idx: bytes(h) for idx, h in cur.fetchall()}


def tiles_at(log: str, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], list[bytes]]:
    keys = sorted(set(keys))
    if not keys:
        return {}
    with connection.cursor() as cur:
        cur.execute(
            "SELECT t.level, t.tile, t.hashes FROM kernel_ledgertile t"
            " JOIN unnest(%s::smallint[], %s::bigint[]) AS k(level, tile)"
            " ON t.level = k.level AND t.tile = k.tile WHERE t.log = %s",
            [[k[0] for k in keys], [k[1] for k in keys], log],
        )
        return {(level, tile): split_tile(data) for level, tile, data in cur.fetchall()}


class MissingHash(LookupError):
    """A hash the tree of this size must have is not stored (a deleted or lost row)."""


def bottom_rows(nodes: Iterable[Node], size: int) -> tuple[set[tuple[int, int]], set[int]]:
    """What `node_hashes` must read: the full tiles (level, tile), and at the right edge the
    leaves (T = 0) or the full tiles one level down."""
    tiles: set[tuple[int, int]] = set()
    leaves: set[int] = set()
    for level, index in nodes:
        t_level, r = divmod(level, TILE_HEIGHT)
        first = index << r
        tile = first >> TILE_HEIGHT
        if tile_is_full(t_level, tile, size):
            tiles.add((t_level, tile))
        elif t_level == 0:
            leaves.update(range(first, first + (1 << r)))
        else:
            tiles.update((t_level - 1, j) for j in range(first, first + (1 << r)))
    return tiles, leaves


def node_hashes(log: str, nodes: Iterable[Node], size: int) -> dict[Node, bytes]:
    """The hashes of complete subtrees of the log's tree of `size` leaves (two queries)."""
    nodes = set(nodes)
    tile_keys, leaf_keys = bottom_rows(nodes, size)
    tiles = tiles_at(log, tile_keys)
    leaves = leaf_hashes_at(log, leaf_keys)
    result: dict[Node, bytes] = {}
    for level, index in nodes:
        t_level, r = divmod(level, TILE_HEIGHT)
        first = index << r
        tile = first >> TILE_HEIGHT
        try:
            if tile_is_full(t_level, tile, size):
                offset = first - tile * TILE_WIDTH
                row = tiles[(t_level, tile)][offset : offset + (1 << r)]
            elif t_level == 0:
                row = [leaves[i] for i in range(first, first + (1 << r))]
            else:
                row = [fold(tiles[(t_level - 1, j)]) for j in range(first, first + (1 << r))]
        except KeyError as exc:
            raise MissingHash(f"{log}: no stored hash for node {(level, index)}") from exc
        if len(row) != 1 << r:
            raise MissingHash(f"{log}: a tile under node {(level, index)} is short")
        result[(level, index)] = fold(row)
    return result
