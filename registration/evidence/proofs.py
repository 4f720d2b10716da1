"""A deposit's public proof: where its leaf sits in the ledger's evidence log, the latest
signed checkpoint, the inclusion path from the leaf to that checkpoint's root, checked here
as the offline checker does (`offline.py`); and the downloadable bundle."""

from __future__ import annotations

import base64

from wuhan_pdr.kernel.ledger import heads as heads_mod
from wuhan_pdr.kernel.ledger.tree import inclusion_proof, latest_head, leaf_position

from . import offline
from .models import Deposit

LOG = "evidence"


def deposit_proof(deposit: Deposit) -> dict:
    """{"state": "none" | "pending" | "included", ...}: "pending" until the ledger integrates
    the leaf (seconds: `LEDGER_INTEGRATE_SECONDS`). Cached on the instance."""
    cached = getattr(deposit, "_proof_cache", None)
    if cached is not None:
        return cached
    proof: dict = {"state": "none"}
    if deposit.state == Deposit.State.DONE and deposit.leaf_id:
        position = leaf_position(deposit.leaf_id)
        head = latest_head(LOG)
        if position is None or head is None or position[1] >= head.size:
            proof = {"state": "pending"}
        else:
            index = position[1]
            inclusion = inclusion_proof(LOG, index, head.size)
            public = heads_mod.verification_keys().get(head.key_id) or heads_mod.public_key_bytes()
            path = [h.hex() for h in inclusion.path]
            proof = {
                "state": "included",
                "leaf_index": index,
                "leaf_hash": inclusion.leaf_hash.hex(),
                "tree_size": head.size,
                "path": path,
                "head": head.as_json(),
                "checkpoint_text": head.checkpoint().decode("ascii"),
                "checkpoint_origin": heads_mod.CHECKPOINT_ORIGIN,
                "public_key": base64.b64encode(public).decode("ascii"),
                "verified": offline.verify_inclusion(
                    inclusion.leaf_hash, index, head.size, list(inclusion.path), head.root_hash
                )
                and heads_mod.signature_ok(head),
            }
    deposit._proof_cache = proof
    return proof


def bundle(deposit: Deposit, *, base_url: str = "") -> dict:
    """The proof bundle (JSON) of a finished deposit whose leaf is in a signed checkpoint;
    checkable offline with `manage.py evidence_verify` or the steps of docs/evidence.md."""
    from wuhan_pdr.kernel.ledger.models import LedgerEntry

    proof = deposit_proof(deposit)
    if proof["state"] != "included":
        return {}
    entry = LedgerEntry.objects.get(leaf_id=deposit.leaf_id)
    data_url = ""
    if deposit.kind == Deposit.Kind.OPEN_DATA:
        data_url = f"{base_url}/registration/evidence/d/{deposit.public_id}/data/"
    return {
        "format": offline.BUNDLE_FORMAT,
        "deposit": {
            "id": str(deposit.public_id),
            "kind": deposit.kind,
            "holder": deposit.holder.name,
            "holder_credit_code": deposit.holder.credit_code or "",
            "resource": deposit.resource.code if deposit.resource_id else "",
            "deposited_at": deposit.deposited_at.isoformat() if deposit.deposited_at else "",
            "data_sha256": deposit.data_sha256,
            "data_bytes": deposit.data_bytes,
            "data_rows": deposit.data_rows,
            "metadata_sha256": deposit.metadata_sha256,
            "metadata_bytes": deposit.metadata_bytes,
            "data_url": data_url,
        },
        "metadata": {"canonical": deposit.metadata_json},
        "ledger": {
            "log": LOG,
            "entry": bytes(entry.entry).decode("utf-8"),
            "leaf_hash": proof["leaf_hash"],
            "leaf_index": proof["leaf_index"],
            "inclusion_path": proof["path"],
            "checkpoint": proof["head"],
            "checkpoint_origin": proof["checkpoint_origin"],
            "public_key": proof["public_key"],
            "heads_url": f"{base_url}/ledger/heads.json",
        },
    }
