"""Public pages of the ledger's public logs (the evidence log): its signed tree heads and the
public key, as a page and as JSON, and the proofs anyone may check against those heads."""

from __future__ import annotations

import base64

from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from . import LOGS
from . import heads as heads_mod
from .merkle import EMPTY_ROOT
from .tree import consistency_proof, inclusion_proof, tree_size

PUBLIC_LOG = "evidence"


def _public_log(log: str) -> str:
    if log not in LOGS or not LOGS[log].public:
        raise Http404
    return log


def _int_param(request, name: str, default: int | None = None) -> int | None:
    """A non-negative integer GET parameter; None (or `default`) when missing or not one."""
    value = (request.GET.get(name) or "").strip()
    if not value:
        return default
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        return None
    return int(value)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _key_context() -> dict:
    """The current key, and the earlier keys (LEDGER_PREVIOUS_PUBLIC_KEYS) whose heads still
    verify: each head names its key by `key_id`."""
    public = heads_mod.public_key_bytes()
    return {
        "algorithm": "Ed25519",
        "public_key": _b64(public),
        "key_id": heads_mod.key_id(public),
        "previous_keys": [
            {"key_id": kid, "public_key": _b64(pub)} for kid, pub in heads_mod.previous_keys()
        ],
    }


@require_GET
def ledger_heads(request, log: str = PUBLIC_LOG):
    from .models import LedgerHead

    log = _public_log(log)
    heads = LedgerHead.objects.filter(log=log).order_by("-size")
    raw_min = request.GET.get("min_size", "")
    min_size = _int_param(request, "min_size")
    if min_size is not None:
        heads = heads.filter(size__gte=min_size)
    page = Paginator(heads, 50).get_page(request.GET.get("page"))
    rows = [
        (h, bytes(h.root_hash).hex(), base64.b64encode(bytes(h.signature)).decode()) for h in page
    ]
    context = {
        "log": log,
        "page_obj": page,
        "rows": rows,
        "size": tree_size(log),
        "min_size": raw_min[:20],
        "filtered": bool(raw_min),
        "checkpoint_origin": heads_mod.CHECKPOINT_ORIGIN,
        **_key_context(),
    }
    return render(request, "kernel/ledger_heads.html", context)


@require_GET
def ledger_heads_json(request, log: str = PUBLIC_LOG):
    """The newest 100 heads (or those from `?min_size=`), each with its signature over the
    checkpoint text: "<origin>\\n<log>\\n<size>\\n<root base64>\\n<timestamp ms>\\n"."""
    from .models import LedgerHead

    log = _public_log(log)
    min_size = _int_param(request, "min_size", 0)
    if min_size is None:
        return JsonResponse({"error": _("min_size must be a non-negative integer")}, status=400)
    rows = LedgerHead.objects.filter(log=log, size__gte=min_size).order_by("-size")[:100]
    return JsonResponse(
        {
            "log": log,
            **_key_context(),
            "checkpoint_origin": heads_mod.CHECKPOINT_ORIGIN,
            "size": tree_size(log),
            "heads": [heads_mod.Head.from_model(row).as_json() for row in rows],
        }
    )


@require_GET
def ledger_inclusion_json(request, log: str = PUBLIC_LOG):
    """?index=&size=: RFC 9162 inclusion proof of leaf `index` in the tree of `size`."""
    log = _public_log(log)
    current = tree_size(log)
    index, size = _int_param(request, "index"), _int_param(request, "size", current)
    if index is None or size is None:
        return JsonResponse(
            {"error": _("index and size must be non-negative integers")}, status=400
        )
    if not index < size <= current:
        raise Http404
    proof = inclusion_proof(log, index, size)
    return JsonResponse(
        {
            "log": log,
            "leaf_index": proof.leaf_index,
            "tree_size": proof.tree_size,
            "leaf_hash": proof.leaf_hash.hex(),
            "path": [h.hex() for h in proof.path],
        }
    )


@require_GET
def ledger_consistency_json(request, log: str = PUBLIC_LOG):
    """?first=&second=: RFC 9162 consistency proof between two tree sizes."""
    log = _public_log(log)
    current = tree_size(log)
    first, second = _int_param(request, "first"), _int_param(request, "second", current)
    if first is None or second is None:
        return JsonResponse(
            {"error": _("first and second must be non-negative integers")}, status=400
        )
    if not first <= second <= current:
        raise Http404
    return JsonResponse(
        {
            "log": log,
            "first": first,
            "second": second,
            "empty_root": EMPTY_ROOT.hex(),
            "path": [h.hex() for h in consistency_proof(log, first, second)],
        }
    )
