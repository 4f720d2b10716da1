"""manage.py backup_decrypt FILE: the plaintext of an encrypted backup file on standard output
(or into --output), for a restore by hand:

    manage.py backup_decrypt var/backups/NAME/database.dump.enc | pg_restore -d NEWDB
    manage.py backup_decrypt var/backups/NAME/media.tar.enc | tar -x -C MEDIA_ROOT

Each chunk is authenticated before it is written; a changed file stops with an error (so run
`manage.py backup --verify NAME` first, rather than restore half of a bad file)."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from security.backups import crypto


class Command(BaseCommand):
    help = "Decrypt a backup file to standard output or --output."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--output", "-o", help="write here instead of standard output")

    def handle(self, *args, file, output=None, **options):
        try:
            with open(file, "rb") as raw:
                sink = open(output, "wb") if output else sys.stdout.buffer  # noqa: SIM115
                try:
                    for chunk in crypto.decrypt_chunks(raw):
                        sink.write(chunk)
                finally:
                    sink.flush()
                    if output:
                        sink.close()
        except (OSError, crypto.BackupCorrupt, crypto.BackupKeyError) as exc:
            raise CommandError(str(exc)) from exc
