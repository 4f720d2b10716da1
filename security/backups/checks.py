"""`manage.py check --deploy`: production needs a backup key of its own."""

from __future__ import annotations

from django.core.checks import Error

from . import crypto


def backup_key_check(app_configs=None, **kwargs) -> list[Error]:
    try:
        crypto.configured_keys()
    except crypto.BackupKeyError as exc:
        return [
            Error(
                f"Backups cannot be encrypted: {exc}.",
                hint="Set BACKUP_ENCRYPTION_KEY to the URL-safe base64 of 32 random bytes "
                "(docs/operations.md, 'Backups and restore') and keep a copy off the machine.",
                id="security.E801",
            )
        ]
    return []
