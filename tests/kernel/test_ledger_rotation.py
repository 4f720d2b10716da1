"""Rotating the ledger's signing key: heads name their key by id, and the public keys of
earlier keys (LEDGER_PREVIOUS_PUBLIC_KEYS) let ledger_verify, the public page and the heads'
JSON verify heads signed before the rotation; a head naming an unknown key fails, by name."""

from __future__ import annotations

import base64
import hashlib

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings

from tests.kernel.test_ledger import build, entries_of, naive_mth
from wuhan_pdr.kernel.ledger import heads as heads_mod
from wuhan_pdr.kernel.ledger.merkle import verify_consistency, verify_inclusion
from wuhan_pdr.kernel.ledger.tree import export_missing
from wuhan_pdr.kernel.ledger.verify import ledger_status, verify_log
from wuhan_pdr.kernel.models import LedgerHead


def _seed(phrase: bytes) -> str:
    return base64.b64encode(hashlib.sha256(phrase).digest()).decode("ascii")


OLD, NEW = _seed(b"rotation test: old key"), _seed(b"rotation test: new key")


def _public(seed: str) -> str:
    raw = heads_mod.public_key_bytes(heads_mod._private_key(seed).public_key())
    return base64.b64encode(raw).decode("ascii")


@pytest.mark.django_db
def test_heads_signed_before_a_rotation_verify_with_the_previous_public_key(capsys):
    entries = entries_of(40)
    with override_settings(LEDGER_SIGNING_KEY=OLD):
        build(entries[:25])
        export_missing("evidence")
        old_id = heads_mod.key_id()
        assert verify_log("evidence").ok
    old_heads = set(LedgerHead.objects.filter(log="evidence").values_list("size", flat=True))
    assert set(LedgerHead.objects.values_list("key_id", flat=True)) == {old_id}

    # The key is rotated but the old public key is not configured: every old head fails,
    # and the report names the unknown key.
    with override_settings(LEDGER_SIGNING_KEY=NEW, LEDGER_PREVIOUS_PUBLIC_KEYS=[]):
        report = verify_log("evidence")
        assert not report.ok and old_id in report.problems[0]
        with pytest.raises(CommandError):
            call_command("ledger_verify", "--log", "evidence")
        assert old_id in capsys.readouterr().err

    rotated = override_settings(LEDGER_SIGNING_KEY=NEW, LEDGER_PREVIOUS_PUBLIC_KEYS=[_public(OLD)])
    with rotated:
        new_id = heads_mod.key_id()
        assert new_id != old_id
        assert verify_log("evidence").ok
        # New heads are signed with the new key and name it.
        build(entries[25:], seed=7)
        export_missing("evidence")
        new_heads = LedgerHead.objects.filter(log="evidence").exclude(size__in=old_heads)
        assert new_heads.exists() and {h.key_id for h in new_heads} == {new_id}
        report = verify_log("evidence")
        assert report.ok and report.size == 40, report.problems
        assert ledger_status("evidence")[0]
        call_command("ledger_verify", "--log", "evidence")

        # The public page and the JSON show both keys; heads of both verify, and so do the
        # proofs against them.
        page = Client().get("/ledger/").content.decode()
        assert new_id in page and old_id in page and _public(OLD) in page
        body = Client().get("/ledger/heads.json", {"min_size": 0}).json()
        assert body["key_id"] == new_id
        assert body["previous_keys"] == [{"key_id": old_id, "public_key": _public(OLD)}]
        heads = {h["size"]: heads_mod.Head.from_json(h) for h in body["heads"]}
        assert all(heads_mod.signature_ok(h) for h in heads.values())
        old_head = heads[max(old_heads)]
        newest = heads[40]
        assert old_head.key_id == old_id and newest.key_id == new_id
        assert old_head.root_hash == naive_mth(entries[: old_head.size])
        proof = Client().get("/ledger/inclusion.json", {"index": 3, "size": old_head.size}).json()
        assert verify_inclusion(
            bytes.fromhex(proof["leaf_hash"]),
            3,
            old_head.size,
            [bytes.fromhex(h) for h in proof["path"]],
            old_head.root_hash,
        )
        proof = Client().get("/ledger/consistency.json", {"first": old_head.size}).json()
        assert verify_consistency(
            old_head.size,
            40,
            old_head.root_hash,
            newest.root_hash,
            [bytes.fromhex(h) for h in proof["path"]],
        )


@pytest.mark.django_db
def test_a_previous_key_does_not_make_a_forged_head_valid():
    with override_settings(LEDGER_SIGNING_KEY=OLD):
        build(entries_of(5))
    with override_settings(LEDGER_SIGNING_KEY=NEW, LEDGER_PREVIOUS_PUBLIC_KEYS=[_public(OLD)]):
        head = heads_mod.Head.from_model(LedgerHead.objects.filter(log="evidence").last())
        # Signed by the new key but claiming the old key's id: refused.
        forged = heads_mod.Head(
            head.log,
            head.size,
            head.root_hash,
            head.timestamp_ms,
            head.key_id,
            heads_mod.signing_key().sign(head.checkpoint()),
        )
        assert heads_mod.signature_ok(head) and not heads_mod.signature_ok(forged)


def test_a_malformed_previous_key_is_named():
    with (
        override_settings(LEDGER_PREVIOUS_PUBLIC_KEYS=["not-a-key"]),
        pytest.raises(ValueError, match="LEDGER_PREVIOUS_PUBLIC_KEYS, key 1"),
    ):
        heads_mod.verification_keys()
