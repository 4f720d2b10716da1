"""manage.py backup: an encrypted backup of the database and the media folder into BACKUP_DIR,
then retention. `--verify NAME` checks an existing one instead; `--generate-key` prints a new
key for BACKUP_ENCRYPTION_KEY."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from security.backups import crypto, services
from security.backups.models import Backup


class Command(BaseCommand):
    help = "Back up the database (pg_dump) and the media folder, encrypted, into BACKUP_DIR."

    def add_arguments(self, parser):
        parser.add_argument("--verify", metavar="NAME", help="verify the backup NAME instead")
        parser.add_argument(
            "--generate-key", action="store_true", help="print a new BACKUP_ENCRYPTION_KEY"
        )

    def handle(self, *args, verify=None, generate_key=False, **options):
        if generate_key:
            self.stdout.write(crypto.generate_key_text())
            return
        if verify:
            backup = Backup.objects.filter(name=verify).first()
            if backup is None:
                raise CommandError(f"no backup named {verify!r}")
            try:
                services.backup_verify(backup)
            except (crypto.BackupCorrupt, crypto.BackupKeyError) as exc:
                raise CommandError(f"{verify}: {exc}") from exc
            self.stdout.write(f"{verify}: checksums and encryption verified")
            return
        backup = services.backup_create()
        if backup.state != Backup.State.DONE:
            raise CommandError(f"backup {backup.name} failed: {backup.error}")
        self.stdout.write(
            f"{services.backup_path(backup)} ({backup.size_bytes} bytes, "
            f"{len(backup.manifest.get('tables', {}))} tables)"
        )
