"""Credentials stored in the database are sealed; production settings pass the deploy
check."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.test import override_settings

from wuhan_pdr.kernel.sealing import is_sealed, seal, unseal

REPO = Path(__file__).resolve().parents[2]


def test_a_sealed_value_opens_and_does_not_show_the_text():
    sealed = seal("口令-Pa55w0rd!")
    assert is_sealed(sealed) and "Pa55w0rd" not in sealed
    assert unseal(sealed) == "口令-Pa55w0rd!"
    assert seal("") == "" and unseal("") == ""


def test_an_unsealed_legacy_value_reads_as_it_is():
    assert unseal("plain-old-password") == "plain-old-password"


def test_keys_rotate_and_a_foreign_key_cannot_open():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEY=old):
        sealed = seal("secret")
    with override_settings(FIELD_ENCRYPTION_KEY=f"{new},{old}"):
        assert unseal(sealed) == "secret"
        assert unseal(seal("again")) == "again"
    with override_settings(FIELD_ENCRYPTION_KEY=new), pytest.raises(ValueError):
        unseal(sealed)


def test_production_settings_pass_the_deploy_check():
    # The browser tests' DJANGO_ALLOW_ASYNC_UNSAFE must not leak into a deployment check.
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "wuhan_pdr.settings.production",
        "DJANGO_SECRET_KEY": "deploy-check-" + "k" * 60,
        "DJANGO_ALLOWED_HOSTS": "data.wuhan.gov.cn",
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "MASKING_HMAC_KEY": "masking-" + "m" * 40,
        "LEDGER_SIGNING_KEY": base64.b64encode(os.urandom(32)).decode(),
        "BACKUP_ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("="),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
