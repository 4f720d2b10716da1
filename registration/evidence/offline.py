"""Checking a proof bundle offline: the standard library and `cryptography` only (no Django,
no database), so that `manage.py evidence_verify` and the script in docs/evidence.md check
the same things in the same way.

A bundle (`proofs.bundle`, format "wuhan-pdr evidence bundle 1") holds the deposit's digests,
its canonical metadata, the exact ledger entry, the leaf's index, a signed checkpoint of the
evidence log and the RFC 9162 inclusion path from the leaf to that checkpoint's root."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

BUNDLE_FORMAT = "wuhan-pdr evidence bundle 1"


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(leaf: bytes, index: int, size: int, path: list[bytes], root: bytes) -> bool:
    """RFC 9162 2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def checkpoint_text(origin: str, log: str, size: int, root: bytes, timestamp_ms: int) -> bytes:
    root64 = base64.b64encode(root).decode("ascii")
    return f"{origin}\n{log}\n{size}\n{root64}\n{timestamp_ms}\n".encode("ascii")


def check_bundle(
    bundle: dict, *, data: Iterable[bytes] | None = None, public_key: str | None = None
) -> list[tuple[str, bool]]:
    """Every check of a bundle, in order: (what, passed). `data`: the file's bytes in chunks
    (optional); `public_key`: the ledger's key in base64 as published on /ledger/ (optional:
    otherwise the bundle's own key is checked against its key id only)."""
    results: list[tuple[str, bool]] = []

    def check(what: str, ok: bool) -> bool:
        results.append((what, bool(ok)))
        return bool(ok)

    try:
        if not check("bundle format", bundle.get("format") == BUNDLE_FORMAT):
            return results
        deposit = bundle["deposit"]
        lg = bundle["ledger"]
        head = lg["checkpoint"]
        entry_text = lg["entry"].encode("utf-8")
        entry = json.loads(entry_text)
        metadata_text = bundle["metadata"]["canonical"].encode("utf-8")
        metadata = json.loads(metadata_text)
        data_sha = deposit["data_sha256"]
        meta_sha = deposit["metadata_sha256"]
        if data is not None:
            h, size = hashlib.sha256(), 0
            for chunk in data:
                h.update(chunk)
                size += len(chunk)
            check("file digest equals the deposit's data digest", h.hexdigest() == data_sha)
            check("file size equals the deposit's", size == deposit["data_bytes"])
        check(
            "metadata digest",
            hashlib.sha256(metadata_text).hexdigest() == meta_sha
            and metadata.get("data", {}).get("sha256") == data_sha
            and metadata.get("deposit") == deposit["id"],
        )
        check(
            "ledger entry names the deposit and its digests",
            entry.get("deposit") == deposit["id"]
            and entry.get("data_sha256") == data_sha
            and entry.get("metadata_sha256") == meta_sha
            and entry.get("data_bytes") == deposit["data_bytes"],
        )
        leaf = hashlib.sha256(b"\x00" + entry_text).digest()
        check("leaf hash = SHA-256(0x00 || entry)", leaf.hex() == lg["leaf_hash"])
        root = bytes.fromhex(head["root_hash"])
        check(
            "inclusion proof (RFC 9162) reaches the checkpoint's root",
            verify_inclusion(
                leaf,
                int(lg["leaf_index"]),
                int(head["size"]),
                [bytes.fromhex(p) for p in lg["inclusion_path"]],
                root,
            ),
        )
        key = base64.b64decode(public_key or lg["public_key"])
        check(
            "key id = first 16 hex digits of SHA-256(public key)",
            hashlib.sha256(key).hexdigest()[:16] == head["key_id"],
        )
        text = checkpoint_text(
            lg["checkpoint_origin"], head["log"], int(head["size"]), root, int(head["timestamp_ms"])
        )
        try:
            Ed25519PublicKey.from_public_bytes(key).verify(
                base64.b64decode(head["signature"]), text
            )
            signed = True
        except (InvalidSignature, ValueError):
            signed = False
        check("checkpoint signature (Ed25519)", signed)
    except (KeyError, TypeError, ValueError, AttributeError):
        check("bundle is complete and well formed", False)
    return results


def bundle_ok(results: list[tuple[str, bool]]) -> bool:
    return bool(results) and all(ok for _what, ok in results)
