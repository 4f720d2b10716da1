"""Signed tree heads: Ed25519 over a checkpoint text, kept in the database and appended to a
file per log outside it (settings.LEDGER_HEADS_DIR), so that whoever holds the database and
the key still cannot rewrite history without contradicting the heads already exported."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings

CHECKPOINT_ORIGIN = "wuhan-pdr ledger v1"


@dataclass(frozen=True)
class Head:
    log: str
    size: int
    root_hash: bytes
    timestamp_ms: int
    key_id: str
    signature: bytes

    def checkpoint(self) -> bytes:
        return checkpoint(self.log, self.size, self.root_hash, self.timestamp_ms)

    def as_json(self) -> dict:
        return {
            "log": self.log,
            "size": self.size,
            "root_hash": self.root_hash.hex(),
            "timestamp_ms": self.timestamp_ms,
            "key_id": self.key_id,
            "signature": base64.b64encode(self.signature).decode("ascii"),
        }

    @classmethod
    def from_json(cls, data: dict) -> Head:
        return cls(
            log=data["log"],
            size=int(data["size"]),
            root_hash=bytes.fromhex(data["root_hash"]),
            timestamp_ms=int(data["timestamp_ms"]),
            key_id=data["key_id"],
            signature=base64.b64decode(data["signature"]),
        )

    @classmethod
    def from_model(cls, row) -> Head:
        return cls(
            row.log,
            row.size,
            bytes(row.root_hash),
            row.timestamp_ms,
            row.key_id,
            bytes(row.signature),
        )


def checkpoint(log: str, size: int, root_hash: bytes, timestamp_ms: int) -> bytes:
    """The signed text, one field a line (as a transparency-log checkpoint)."""
    root = base64.b64encode(root_hash).decode("ascii")
    return f"{CHECKPOINT_ORIGIN}\n{log}\n{size}\n{root}\n{timestamp_ms}\n".encode("ascii")


@lru_cache(maxsize=4)
def _private_key(seed_b64: str) -> Ed25519PrivateKey:
    seed = base64.b64decode(seed_b64)
    if len(seed) != 32:
        raise ValueError("LEDGER_SIGNING_KEY must be 32 bytes (an Ed25519 seed) in base64")
    return Ed25519PrivateKey.from_private_bytes(seed)


def signing_key() -> Ed25519PrivateKey:
    return _private_key(settings.LEDGER_SIGNING_KEY)


def public_key_bytes(key: Ed25519PublicKey | None = None) -> bytes:
    key = key or signing_key().public_key()
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(public: bytes | None = None) -> str:
    return hashlib.sha256(public or public_key_bytes()).hexdigest()[:16]


def sign(log: str, size: int, root_hash: bytes, timestamp_ms: int) -> Head:
    signature = signing_key().sign(checkpoint(log, size, root_hash, timestamp_ms))
    return Head(log, size, root_hash, timestamp_ms, key_id(), signature)


@lru_cache(maxsize=4)
def _ring(current_seed: str, previous: tuple[str, ...]) -> dict[str, bytes]:
    ring = {}
    for number, text in enumerate(previous, 1):
        try:
            public = base64.b64decode(text.strip(), validate=True)
            Ed25519PublicKey.from_public_bytes(public)
        except ValueError as exc:
            raise ValueError(
                f"LEDGER_PREVIOUS_PUBLIC_KEYS, key {number}: not an Ed25519 public key"
                " (32 bytes in base64)"
            ) from exc
        ring[key_id(public)] = public
    current = public_key_bytes(_private_key(current_seed).public_key())
    ring[key_id(current)] = current
    return ring


def verification_keys() -> dict[str, bytes]:
    """Key id -> public key of every key whose heads verify: the current signing key's and
    those of `LEDGER_PREVIOUS_PUBLIC_KEYS` (keys the ledger signed with before a rotation)."""
    previous = tuple(k for k in getattr(settings, "LEDGER_PREVIOUS_PUBLIC_KEYS", ()) if k.strip())
    return _ring(settings.LEDGER_SIGNING_KEY, previous)


def previous_keys() -> list[tuple[str, bytes]]:
    """(key id, public key) of the earlier keys, as configured."""
    current = key_id()
    return [(kid, pub) for kid, pub in verification_keys().items() if kid != current]


def signature_ok(head: Head, public: bytes | None = None) -> bool:
    """Whether `head` is signed by `public`, or, when none is given, by the key its key id
    names among `verification_keys()` (the current key or an earlier one). A head naming a
    key the ring does not hold fails."""
    if public is None:
        public = verification_keys().get(head.key_id)
        if public is None:
            return False
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(head.signature, head.checkpoint())
    except InvalidSignature:
        return False
    return True


def heads_file(log: str) -> Path:
    """One append-only file a log, named after the deployment (several share a directory)."""
    return Path(settings.LEDGER_HEADS_DIR) / f"{settings.DEPLOYMENT_NAME}-{log}.jsonl"


def export(heads: list[Head]) -> None:
    """Append heads to their log's file, flushed to disk before returning."""
    by_log: dict[str, list[Head]] = {}
    for head in heads:
        by_log.setdefault(head.log, []).append(head)
    for log, items in by_log.items():
        path = heads_file(log)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            for head in items:
                fh.write(json.dumps(head.as_json(), sort_keys=True) + "\n")
            fh.flush()
            os.fsync(fh.fileno())


def exported(log: str) -> list[Head]:
    """The heads in the log's file (a line that does not parse raises ValueError)."""
    path = heads_file(log)
    if not path.exists():
        return []
    heads = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                heads.append(Head.from_json(json.loads(line)))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path.name}, line {number}: not a tree head") from exc
    return heads


def last_exported_size(log: str) -> int:
    """The size of the last head in the log's file (reads only its tail)."""
    path = heads_file(log)
    if not path.exists():
        return 0
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        end = fh.tell()
        fh.seek(max(0, end - 4096))
        lines = [line for line in fh.read().splitlines() if line.strip()]
    if not lines:
        return 0
    try:
        return int(json.loads(lines[-1])["size"])
    except (ValueError, KeyError):
        return 0
