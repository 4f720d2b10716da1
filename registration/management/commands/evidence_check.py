"""Recompute every finished deposit (`services.deposit_check`): its record against its ledger
entry, the entry against its leaf hash, the metadata and the stored file against their
digests. `manage.py evidence_check [--no-files]`; exits non-zero naming each bad deposit."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from registration.evidence.models import Deposit
from registration.evidence.services import deposit_check


class Command(BaseCommand):
    help = "Check every finished evidence deposit against the ledger and its stored bytes."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-files", action="store_true", help="Do not read the stored files back."
        )

    def handle(self, *args, **options):
        bad = 0
        count = 0
        deposits = Deposit.objects.filter(state=Deposit.State.DONE).select_related("holder")
        for deposit in deposits.order_by("pk").iterator(chunk_size=200):
            count += 1
            problems = deposit_check(deposit, read_file=not options["no_files"])
            if problems:
                bad += 1
                self.stdout.write(f"{deposit.public_id}: " + "; ".join(problems))
        if bad:
            raise CommandError(f"{bad} of {count} deposits do not hold")
        self.stdout.write(f"{count} deposits checked, all hold")
