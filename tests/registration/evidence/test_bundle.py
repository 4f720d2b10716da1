"""Proof bundles (issue #16, item 4): a bundle verifies offline, with `manage.py
evidence_verify` and with the script and sha256sum of docs/evidence.md; a forged proof, entry,
signature or file fails."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from registration.evidence import proofs
from registration.evidence.offline import bundle_ok, check_bundle
from wuhan_pdr.kernel.ledger.tree import integrate

from .factories import deposit, typed

ROOT = Path(__file__).resolve().parents[3]


def docs_script() -> str:
    text = (ROOT / "docs" / "evidence.md").read_text(encoding="utf-8")
    marker = text.index("<!-- verify_bundle.py")
    block = re.search(r"```python\n(.*?)```", text[marker:], re.S)
    return block.group(1)


@pytest.fixture
def made(db):
    setup = typed()
    first = deposit(setup)
    deposit(setup)  # a second leaf, so that the path is not empty
    integrate("evidence")
    return first


def saved(tmp_path, made) -> tuple[Path, Path, dict]:
    data = proofs.bundle(made)
    bundle_path = tmp_path / "bundle.json"
    bundle_path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    file_path = tmp_path / "data.csv"
    with made.data_file.open("rb") as fh:
        file_path.write_bytes(fh.read())
    return bundle_path, file_path, data


def forgeries(data: dict) -> dict[str, dict]:
    out = {}
    f = copy.deepcopy(data)
    f["ledger"]["inclusion_path"][0] = "00" * 32
    out["path"] = f
    f = copy.deepcopy(data)
    f["ledger"]["entry"] = f["ledger"]["entry"].replace(data["deposit"]["data_sha256"], "f" * 64)
    f["deposit"]["data_sha256"] = "f" * 64
    out["entry"] = f
    f = copy.deepcopy(data)
    f["ledger"]["checkpoint"]["timestamp_ms"] += 1
    out["signature"] = f
    f = copy.deepcopy(data)
    f["ledger"]["leaf_index"] = 1 - data["ledger"]["leaf_index"]
    out["index"] = f
    return out


def test_the_bundle_verifies_offline_and_forgeries_fail(made, tmp_path, capsys):
    bundle_path, file_path, data = saved(tmp_path, made)
    assert data["ledger"]["inclusion_path"]
    results = check_bundle(data, data=[file_path.read_bytes()])
    assert bundle_ok(results), results
    call_command("evidence_verify", str(bundle_path), str(file_path))
    assert capsys.readouterr().out.strip().endswith("verified")
    # The file with one byte changed.
    changed = bytearray(file_path.read_bytes())
    changed[len(changed) // 2] ^= 0x01
    other = tmp_path / "changed.csv"
    other.write_bytes(bytes(changed))
    with pytest.raises(CommandError):
        call_command("evidence_verify", str(bundle_path), str(other))
    for name, forged in forgeries(data).items():
        assert not bundle_ok(check_bundle(forged)), name
        path = tmp_path / f"forged-{name}.json"
        path.write_text(json.dumps(forged), encoding="utf-8")
        with pytest.raises(CommandError):
            call_command("evidence_verify", str(path))
    # A key other than the ledger's.
    assert not bundle_ok(check_bundle(data, public_key="A" * 43 + "="))
    assert not bundle_ok(check_bundle({"format": "something else"}))
    assert not bundle_ok(check_bundle({"format": data["format"]}))


def test_the_documented_steps_verify_the_bundle(made, tmp_path):
    bundle_path, file_path, data = saved(tmp_path, made)
    script = tmp_path / "verify_bundle.py"
    script.write_text(docs_script(), encoding="utf-8")
    sha = subprocess.run(["sha256sum", str(file_path)], capture_output=True, text=True, check=True)
    assert sha.stdout.split()[0] == data["deposit"]["data_sha256"]
    run = subprocess.run(
        [sys.executable, "-I", str(script), str(bundle_path), str(file_path)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "FAIL" not in run.stdout and run.stdout.count("OK") == 6
    # With the key the public ledger page shows.
    page = Client().get("/ledger/heads.json").json()
    run = subprocess.run(
        [sys.executable, "-I", str(script), str(bundle_path), str(file_path), page["public_key"]],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    for name, forged in forgeries(data).items():
        path = tmp_path / f"forged-{name}.json"
        path.write_text(json.dumps(forged), encoding="utf-8")
        run = subprocess.run(
            [sys.executable, "-I", str(script), str(path)], capture_output=True, text=True
        )
        assert run.returncode == 1 and "FAIL" in run.stdout, name


def test_the_bundle_is_public_and_waits_for_the_checkpoint(db):
    setup = typed()
    made = deposit(setup)
    client = Client()
    # Not yet integrated: no bundle, the proof says it follows.
    assert client.get(f"/registration/evidence/d/{made.public_id}/bundle.json").status_code == 404
    assert proofs.deposit_proof(made)["state"] == "pending"
    integrate("evidence")
    response = client.get(f"/registration/evidence/d/{made.public_id}/bundle.json")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    data = json.loads(response.content)
    assert bundle_ok(check_bundle(data))
    assert client.get("/registration/evidence/d/not-a-uuid/bundle.json").status_code == 404
