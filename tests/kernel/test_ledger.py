"""The tamper-evident ledger (issue 13, item 3): RFC 9162 hashes and proofs against a naive
implementation written here, integration into stored tiles, signed and exported heads,
ledger_verify finding changes, and PostgreSQL refusing changes by any role but the owner."""

from __future__ import annotations

import hashlib
import json
import random

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import Client, override_settings
from django.utils import translation

from tests.naughty import naughty_strings
from wuhan_pdr.kernel.ledger import append, canonical_json, leaf_hash_of, prune
from wuhan_pdr.kernel.ledger import heads as heads_mod
from wuhan_pdr.kernel.ledger.merkle import (
    consistency_ranges,
    inclusion_ranges,
    verify_consistency,
    verify_inclusion,
)
from wuhan_pdr.kernel.ledger.tree import (
    consistency_proof,
    export_missing,
    inclusion_proof,
    integrate,
    leaf_position,
    root_hash,
    tree_size,
)
from wuhan_pdr.kernel.ledger.verify import ledger_roots, ledger_status, verify_log
from wuhan_pdr.kernel.models import (
    LedgerEntry,
    LedgerHead,
    LedgerIndex,
    LedgerLeaf,
    LedgerPending,
    LedgerTile,
)

# --- a naive RFC 9162, written from the RFC's text, independent of the code under test -------


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def naive_mth(entries: list[bytes]) -> bytes:
    n = len(entries)
    if n == 0:
        return sha(b"")
    if n == 1:
        return sha(b"\x00" + entries[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return sha(b"\x01" + naive_mth(entries[:k]) + naive_mth(entries[k:]))


def naive_path(m: int, entries: list[bytes]) -> list[bytes]:
    n = len(entries)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return naive_path(m, entries[:k]) + [naive_mth(entries[k:])]
    return naive_path(m - k, entries[k:]) + [naive_mth(entries[:k])]


def naive_subproof(m: int, entries: list[bytes], whole: bool) -> list[bytes]:
    n = len(entries)
    if m == n:
        return [] if whole else [naive_mth(entries)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return naive_subproof(m, entries[:k], whole) + [naive_mth(entries[k:])]
    return naive_subproof(m - k, entries[k:], False) + [naive_mth(entries[:k])]


def naive_consistency(m: int, entries: list[bytes]) -> list[bytes]:
    return naive_subproof(m, entries, True) if 0 < m < len(entries) else []


def entries_of(n: int) -> list[bytes]:
    return [f"entry {i}".encode() for i in range(n)]


def build(entries: list[bytes], log: str = "evidence", seed: int = 13) -> list[int]:
    """Append the entries and integrate them in batches of random sizes; returns the sizes of
    the signed heads."""
    rng = random.Random(seed)
    sizes, i = [], 0
    while i < len(entries):
        step = rng.choice([1, 1, 2, 3, 5, 8, 15, 16, 17, 31])
        for entry in entries[i : i + step]:
            append(log, entry)
        integrate(log, batch=rng.choice([1, 4, 16, 100]))
        i = min(len(entries), i + step)
        sizes.append(tree_size(log))
    return sizes


def flipped(value: bytes) -> bytes:
    return bytes([value[0] ^ 1]) + value[1:]


@pytest.fixture(autouse=True)
def english():
    """Verification messages are translated: these tests read the English ones."""
    with translation.override("en"):
        yield


def portal_text(message: str) -> str:
    """`message` as a page shows it (the portal speaks Simplified Chinese first)."""
    with translation.override("zh-hans"):
        return translation.gettext(message)


# --- hashes and proofs, pure --------------------------------------------------------------------

# Certificate Transparency's reference vectors (certificate-transparency, merkle_tree tests).
CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def test_the_naive_implementation_gives_certificate_transparencys_roots():
    for size, root in enumerate(CT_ROOTS, 1):
        assert naive_mth(CT_LEAVES[:size]).hex() == root


def test_proof_shapes_match_the_naive_rfc_for_sizes_1_to_70():
    for n in range(1, 71):
        entries = entries_of(n)
        for m in range(n):
            assert len(inclusion_ranges(m, n)) == len(naive_path(m, entries))
        for m in range(n + 1):
            assert len(consistency_ranges(m, n)) == len(naive_consistency(m, entries))


def test_verifiers_accept_the_naive_proofs_and_refuse_forged_ones():
    for n in (1, 2, 3, 7, 8, 9, 31, 33, 70):
        entries = entries_of(n)
        root = naive_mth(entries)
        for m in range(n):
            leaf, path = leaf_hash_of(entries[m]), naive_path(m, entries)
            assert verify_inclusion(leaf, m, n, path, root)
            assert not verify_inclusion(flipped(leaf), m, n, path, root)
            assert not verify_inclusion(leaf, m, n, path, flipped(root))
            assert not verify_inclusion(leaf, n, n, path, root)  # index beyond the tree
            if path:
                assert not verify_inclusion(leaf, m, n, [flipped(path[0]), *path[1:]], root)
                assert not verify_inclusion(leaf, m, n, path[:-1], root)
            if n > 1:
                assert not verify_inclusion(leaf, (m + 1) % n, n, path, root)
        for m in range(1, n):
            path, old = naive_consistency(m, entries), naive_mth(entries[:m])
            assert verify_consistency(m, n, old, root, path)
            assert not verify_consistency(m, n, flipped(old), root, path)
            assert not verify_consistency(m, n, old, flipped(root), path)
            assert not verify_consistency(m, n, old, root, [flipped(path[0]), *path[1:]])
            assert not verify_consistency(m, n, old, root, path[:-1])
            assert not verify_consistency(m, n, old, root, [])
        assert verify_consistency(n, n, root, root, [])
        assert not verify_consistency(n, n, root, flipped(root), [])


# --- appending and integrating ----------------------------------------------------------------


@pytest.mark.django_db
def test_append_is_one_statement_and_assigns_no_index(django_assert_num_queries):
    with django_assert_num_queries(1):
        leaf_id = append("audit", {"b": "中文", "a": 1}, details={"rows": 3})
    leaf = LedgerLeaf.objects.get(pk=leaf_id)
    entry = LedgerEntry.objects.get(pk=leaf_id)
    assert (
        bytes(entry.entry) == canonical_json({"a": 1, "b": "中文"}) == '{"a":1,"b":"中文"}'.encode()
    )
    assert entry.details == {"rows": 3}
    assert bytes(leaf.leaf_hash) == sha(b"\x00" + bytes(entry.entry) + b'\n{"rows":3}')
    assert LedgerPending.objects.filter(leaf_id=leaf_id).exists()
    assert leaf_position(leaf_id) is None and tree_size("audit") == 0
    with pytest.raises(ValueError):
        append("nonsense", b"x")


@pytest.mark.django_db
def test_stored_tree_roots_and_proofs_match_the_naive_rfc_for_sizes_1_to_70(
    django_assert_num_queries,
):
    entries = entries_of(70)
    head_sizes = build(entries)
    assert tree_size("evidence") == 70
    assert [i for i in LedgerIndex.objects.order_by("idx").values_list("idx", flat=True)] == list(
        range(70)
    )
    assert not LedgerPending.objects.filter(log="evidence").exists()
    # Full tiles only: 4 of 16 leaves at level 0, none at level 1 (256 leaves).
    assert set(LedgerTile.objects.values_list("level", "tile")) == {(0, t) for t in range(4)}
    for head in LedgerHead.objects.filter(log="evidence"):
        assert bytes(head.root_hash) == naive_mth(entries[: head.size])
        assert heads_mod.signature_ok(heads_mod.Head.from_model(head))
    # A head per integrated batch: every size the build saw after a run is among them.
    assert set(head_sizes) <= set(
        LedgerHead.objects.filter(log="evidence").values_list("size", flat=True)
    )
    for n in range(1, 71):
        root = naive_mth(entries[:n])
        assert root_hash("evidence", n) == root
        for m in range(n):
            proof = inclusion_proof("evidence", m, n)
            assert proof.path == naive_path(m, entries[:n])
            assert proof.leaf_hash == leaf_hash_of(entries[m])
            assert verify_inclusion(proof.leaf_hash, m, n, proof.path, root)
        for m in range(n + 1):
            path = consistency_proof("evidence", m, n)
            assert path == naive_consistency(m, entries[:n])
            assert verify_consistency(m, n, naive_mth(entries[:m]), root, path)
    # O(log n): a proof reads its hashes in two queries, whatever the size.
    with django_assert_num_queries(2):
        inclusion_proof("evidence", 33, 70)
    with django_assert_num_queries(2):
        consistency_proof("evidence", 21, 70)


@pytest.mark.django_db(transaction=True)
def test_a_leaf_committed_late_gets_the_next_index_and_leaves_no_hole():
    """A transaction that appended first but commits after an integration: its leaf (lower id)
    is integrated by the next run, at the next index."""
    import psycopg

    from tests.services import database_url

    with psycopg.connect(database_url(connection.settings_dict)) as late:
        with late.cursor() as cur:
            cur.execute(
                "INSERT INTO kernel_ledgerleaf (log, leaf_hash, created_at)"
                " VALUES ('evidence', %s, now()) RETURNING id",
                [leaf_hash_of(b"late")],
            )
            late_id = cur.fetchone()[0]
            cur.execute(
                "INSERT INTO kernel_ledgerentry (leaf_id, log, entry) VALUES (%s, 'evidence', %s)",
                [late_id, b"late"],
            )
            cur.execute(
                "INSERT INTO kernel_ledgerpending (leaf_id, log, leaf_hash)"
                " VALUES (%s, 'evidence', %s)",
                [late_id, leaf_hash_of(b"late")],
            )
        early_id = append("evidence", b"early")
        assert early_id > late_id
        assert integrate("evidence") == 1
        late.commit()
    assert integrate("evidence") == 1
    assert leaf_position(early_id) == ("evidence", 0)
    assert leaf_position(late_id) == ("evidence", 1)
    assert root_hash("evidence", 2) == naive_mth([b"early", b"late"])
    assert verify_log("evidence").ok


# --- verification ------------------------------------------------------------------------------


def _built(n: int = 40, log: str = "evidence") -> list[bytes]:
    """A log of n entries whose heads are all exported (inside the test's transaction the
    export after commit never comes: `export_missing` is what the next run would do)."""
    entries = entries_of(n)
    build(entries, log)
    export_missing(log)
    return entries


@pytest.mark.django_db
def test_an_untouched_ledger_verifies_and_exports_every_head():
    # The audit log may hold records of the test database's set-up (role permissions).
    before = LedgerLeaf.objects.filter(log="audit").count()
    entries = _built()
    for i in range(5):
        append("audit", {"n": i}, details={"ip": "10.0.0.1"})
    integrate("audit")
    export_missing("audit")
    report = verify_log("evidence")
    assert report.ok, report.problems
    assert report.size == 40 and report.checked_entries == 40
    assert [h.size for h in heads_mod.exported("evidence")] == list(
        LedgerHead.objects.filter(log="evidence").values_list("size", flat=True)
    )
    assert ledger_status("audit")[:3] == (
        True,
        f"audit: {before + 5} entries verified",
        before + 5,
    )
    assert ledger_roots()["evidence"] == {"size": 40, "root_hash": naive_mth(entries).hex()}
    call_command("ledger_verify")


@pytest.mark.django_db
def test_an_entry_changed_by_the_owner_is_named_by_ledger_verify(capsys):
    _built()
    with connection.cursor() as cur:  # the test runs as the tables' owner: allowed
        cur.execute(
            "UPDATE kernel_ledgerentry SET entry = 'entry 99' WHERE leaf_id ="
            " (SELECT leaf_id FROM kernel_ledgerindex WHERE log = 'evidence' AND idx = 17)"
        )
    ok, message, size, head = ledger_status("evidence")
    assert not ok and size == 40 and head.size == 40
    assert message.startswith("evidence: entry 17 ")
    with pytest.raises(CommandError) as failed:
        call_command("ledger_verify", "--log", "evidence")
    assert failed.value.returncode == 1
    assert "entry 17 " in capsys.readouterr().err


def _forge_pruned_leaf(index: int) -> None:
    """As the owner: prune the entry of leaf `index` and change its hash."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT leaf_id FROM kernel_ledgerindex WHERE log = 'evidence' AND idx = %s", [index]
        )
        (leaf_id,) = cur.fetchone()
        cur.execute("DELETE FROM kernel_ledgerentry WHERE leaf_id = %s", [leaf_id])
        cur.execute(
            "UPDATE kernel_ledgerleaf SET leaf_hash = %s WHERE id = %s",
            [leaf_hash_of(b"forged"), leaf_id],
        )


@pytest.mark.django_db
def test_a_leaf_hash_changed_after_its_entry_was_pruned_is_found_by_its_tile():
    _built()
    _forge_pruned_leaf(20)
    report = verify_log("evidence")
    assert report.pruned_entries == 1
    assert report.problems[0] == (
        "evidence: the stored tile 0/1 does not match the leaves (entries 16..31)"
    )


@pytest.mark.django_db
def test_a_leaf_hash_changed_beyond_the_full_tiles_is_found_by_the_signed_heads():
    _built()
    _forge_pruned_leaf(33)
    sizes = list(LedgerHead.objects.filter(log="evidence").values_list("size", flat=True))
    after = min(size for size in sizes if size > 33)
    before = max(size for size in sizes if size <= 33)
    report = verify_log("evidence")
    between = "entry 33" if after - before == 1 else f"an entry from {before} to {after - 1}"
    assert report.problems[0] == (
        f"evidence: the signed head at size {after} does not match the tree: {between} was changed"
    )


@pytest.mark.django_db
def test_a_rewrite_re_signed_with_the_key_is_found_against_the_exported_heads(tmp_path):
    """Someone with the database (as its owner) and the signing key rewrites entry 12 and
    rebuilds the tree and every head: the database agrees with itself, the exported heads
    written before do not."""
    entries = _built()
    with connection.cursor() as cur:
        cur.execute("SELECT leaf_id FROM kernel_ledgerindex WHERE log = 'evidence' AND idx = 12")
        (leaf_id,) = cur.fetchone()
        cur.execute(
            "UPDATE kernel_ledgerentry SET entry = 'rewritten' WHERE leaf_id = %s", [leaf_id]
        )
        cur.execute(
            "UPDATE kernel_ledgerleaf SET leaf_hash = %s WHERE id = %s",
            [leaf_hash_of(b"rewritten"), leaf_id],
        )
        for table in ("kernel_ledgerhead", "kernel_ledgertile", "kernel_ledgerindex"):
            cur.execute(f"DELETE FROM {table} WHERE log = 'evidence'")  # noqa: S608
        cur.execute(
            "INSERT INTO kernel_ledgerpending (leaf_id, log, leaf_hash)"
            " SELECT id, log, leaf_hash FROM kernel_ledgerleaf WHERE log = 'evidence'"
        )
    with override_settings(LEDGER_HEADS_DIR=str(tmp_path / "attacker")):  # cannot touch ours
        integrate("evidence")
    assert tree_size("evidence") == 40
    rewritten = [*entries[:12], b"rewritten", *entries[13:]]
    assert root_hash("evidence", 40) == naive_mth(rewritten)
    report = verify_log("evidence")
    assert not report.ok
    assert len(report.problems) == 1, report.problems
    assert "the exported head at size" in report.problems[0]
    assert "the tree was rewritten" in report.problems[0]
    # The first exported head that disagrees is the first one past entry 12.
    first_bad = min(h.size for h in heads_mod.exported("evidence") if h.size > 12)
    assert f"size {first_bad} does not match" in report.problems[0]


@pytest.mark.django_db
def test_a_head_signed_with_another_key_is_refused():
    _built(5)
    LedgerHead.objects.filter(log="evidence", size=5).delete()
    other = heads_mod.Head(
        "evidence", 5, root_hash("evidence", 5), 1, "x", heads_mod.signing_key().sign(b"other")
    )
    LedgerHead.objects.create(
        log="evidence",
        size=5,
        root_hash=other.root_hash,
        timestamp_ms=1,
        key_id="x",
        signature=other.signature,
    )
    report = verify_log("evidence")
    assert "the signed head at size 5 has a bad signature" in report.problems[0]


@pytest.mark.django_db
def test_a_leaf_neither_integrated_nor_pending_is_found():
    _built(3)
    leaf_id = append("evidence", b"hidden")
    LedgerPending.objects.filter(leaf_id=leaf_id).delete()
    report = verify_log("evidence")
    assert report.problems == [f"evidence: leaf #{leaf_id} is neither in the tree nor pending"]


@pytest.mark.django_db
def test_heads_missing_from_the_file_are_exported_by_the_next_integration(tmp_path):
    # Without the on-commit export (a crash after the commit): the next run catches up.
    build(entries_of(3))
    assert heads_mod.exported("evidence") == []
    integrate("evidence")
    assert [h.size for h in heads_mod.exported("evidence")] == list(
        LedgerHead.objects.filter(log="evidence").values_list("size", flat=True)
    )


# --- PostgreSQL refuses changes by any role but the owner ------------------------------------


@pytest.fixture
def plain_role():
    """A role of the test transaction (rolled back with it) holding every privilege on the
    ledger's tables: what refuses it is the trigger, not a missing grant."""
    name = f"{connection.settings_dict['NAME']}_ledger_plain"[:63]
    with connection.cursor() as cur:
        cur.execute(f'CREATE ROLE "{name}" NOLOGIN')
        cur.execute(f'GRANT USAGE ON SCHEMA public TO "{name}"')
        cur.execute(
            "GRANT ALL ON kernel_ledgerleaf, kernel_ledgerentry, kernel_ledgerindex,"
            f' kernel_ledgertile, kernel_ledgerhead, kernel_ledgerpending TO "{name}"'
        )
        cur.execute(f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO "{name}"')
    return name


def as_role(role: str, sql: str, params=None) -> None:
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred check pending: TRUNCATE
        cur.execute(f'SET LOCAL ROLE "{role}"')
        cur.execute(sql, params)


@pytest.mark.django_db
def test_update_delete_and_truncate_are_refused_to_any_role_but_the_owner(plain_role):
    before = LedgerLeaf.objects.filter(log="audit").count()  # the set-up's audit records
    _built(20)
    append("audit", {"n": 1})
    append("audit", {"n": 2})
    integrate("audit")
    for table in (
        "kernel_ledgerleaf",
        "kernel_ledgerindex",
        "kernel_ledgertile",
        "kernel_ledgerhead",
    ):
        for sql in (
            f"UPDATE {table} SET log = log",  # noqa: S608
            f"DELETE FROM {table}",  # noqa: S608
            f"TRUNCATE {table} CASCADE",
        ):
            with pytest.raises(DatabaseError, match="the ledger is append-only"):
                as_role(plain_role, sql)
    with pytest.raises(DatabaseError, match="the ledger is append-only"):
        as_role(plain_role, "UPDATE kernel_ledgerentry SET entry = 'x'")
    with pytest.raises(DatabaseError, match="the ledger is append-only"):
        as_role(plain_role, "TRUNCATE kernel_ledgerentry")
    with pytest.raises(DatabaseError, match="the ledger is append-only"):
        as_role(plain_role, "DELETE FROM kernel_ledgerentry WHERE log = 'evidence'")
    # The role may append, and retention may prune the audit log's entries (the leaves stay).
    as_role(plain_role, "SELECT 1")
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f'SET LOCAL ROLE "{plain_role}"')
        append("evidence", b"by the plain role")
        cur.execute("DELETE FROM kernel_ledgerentry WHERE log = 'audit'")
        assert cur.rowcount == before + 2
        cur.execute("RESET ROLE")  # SET LOCAL outlives a released savepoint
    assert LedgerLeaf.objects.filter(log="audit").count() == before + 2
    assert LedgerIndex.objects.filter(log="evidence").count() == 20
    report = verify_log("audit")
    assert report.ok and report.pruned_entries == before + 2
    # The owner may (what the test suite's flush does).
    with connection.cursor() as cur:
        cur.execute("DELETE FROM kernel_ledgerhead WHERE log = 'audit'")


# --- the public page and JSON -------------------------------------------------------------------


@pytest.mark.django_db
def test_the_public_page_lists_the_evidence_heads_and_the_public_key():
    entries = _built(20)
    append("audit", {"secret": "private"})
    integrate("audit")
    response = Client().get("/ledger/")
    assert response.status_code == 200
    page = response.content.decode()
    assert heads_mod.public_key_bytes() and heads_mod.key_id() in page
    assert naive_mth(entries).hex() in page
    assert LedgerHead.objects.get(log="audit").root_hash.hex() not in page  # not public
    body = Client().get("/ledger/heads.json").json()
    assert body["size"] == 20 and body["algorithm"] == "Ed25519"
    newest = heads_mod.Head.from_json(body["heads"][0])
    assert newest.size == 20 and heads_mod.signature_ok(newest)
    proof = Client().get("/ledger/inclusion.json", {"index": 7, "size": 20}).json()
    assert verify_inclusion(
        bytes.fromhex(proof["leaf_hash"]),
        7,
        20,
        [bytes.fromhex(h) for h in proof["path"]],
        newest.root_hash,
    )
    first = LedgerHead.objects.filter(log="evidence").order_by("size").first()
    proof = Client().get("/ledger/consistency.json", {"first": first.size}).json()
    assert verify_consistency(
        first.size,
        20,
        bytes(first.root_hash),
        newest.root_hash,
        [bytes.fromhex(h) for h in proof["path"]],
    )
    assert Client().get("/ledger/inclusion.json", {"index": 20}).status_code == 404
    assert Client().get("/ledger/consistency.json", {"first": 21}).status_code == 404
    filtered = Client().get("/ledger/", {"min_size": 10**6})
    assert portal_text("No signed head is that large.") in filtered.content.decode()


@pytest.mark.django_db
def test_the_public_page_says_what_to_expect_when_empty():
    response = Client().get("/ledger/")
    assert response.status_code == 200
    assert portal_text("No tree head has been signed yet.") in response.content.decode()


@pytest.mark.django_db
def test_naughty_strings_in_the_ledgers_parameters_never_give_a_server_error():
    _built(3)
    client = Client()
    specials = ["\x00", "-1", "1e9", "９", "99999999999999999999999", "3", "2 ", "０"]
    strings = [*naughty_strings(), *specials]
    for s in strings:  # the search box of the page and of its JSON twin: every string
        for url in ("/ledger/", "/ledger/heads.json"):
            response = client.get(url, {"min_size": s})
            assert response.status_code in (200, 400), (url, s)
    for s in [*strings[::10], *specials]:  # the proof parameters: a tenth of them
        for url, name in (
            ("/ledger/inclusion.json", "index"),
            ("/ledger/inclusion.json", "size"),
            ("/ledger/consistency.json", "first"),
        ):
            response = client.get(url, {name: s})
            assert response.status_code in (200, 400, 404), (url, name, s)
    assert json.loads(client.get("/ledger/heads.json", {"min_size": "x"}).content)["error"]


@pytest.mark.django_db
def test_retention_prunes_audit_entries_but_never_evidence():
    import datetime as dt

    from django.utils import timezone

    # Set-up writes audit records of its own (the role permissions synced at migrate): recent.
    existing = set(LedgerEntry.objects.filter(log="audit").values_list("leaf_id", flat=True))
    old = [append("audit", {"n": i}, details={"ip": "10.0.0.1"}) for i in range(3)]
    with connection.cursor() as cur:  # the owner dates them back (as if appended long ago)
        cur.execute(
            "UPDATE kernel_ledgerleaf SET created_at = now() - interval '200 days' WHERE id = ANY(%s)",
            [old],
        )
    recent = append("audit", {"n": 3})
    integrate("audit")
    export_missing("audit")
    assert prune("audit", before=timezone.now() - dt.timedelta(days=180)) == 3
    assert set(LedgerEntry.objects.filter(log="audit").values_list("leaf_id", flat=True)) == {
        *existing,
        recent,
    }
    report = verify_log("audit")
    assert report.ok and report.size == len(existing) + 4 and report.pruned_entries == 3
    with pytest.raises(ValueError):
        prune("evidence", before=timezone.now())


@pytest.mark.django_db
def test_a_leaf_integrated_twice_is_named():
    _built(5)
    with connection.cursor() as cur:  # as the owner: a second position for leaf 2's leaf
        cur.execute(
            "INSERT INTO kernel_ledgerindex (log, idx, leaf_id)"
            " SELECT log, 5, leaf_id FROM kernel_ledgerindex WHERE log = 'evidence' AND idx = 2"
        )
    report = verify_log("evidence")
    assert "is in the tree twice (entry 5)" in report.problems[0]


def test_copy_text_escapes_what_copy_would_read_as_a_delimiter():
    from wuhan_pdr.kernel.ledger.tree import _copy_text

    assert _copy_text("audit") == "audit"
    assert _copy_text("a\\b\tc\nd\re") == "a\\\\b\\tc\\nd\\re"
