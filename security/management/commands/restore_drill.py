"""manage.py restore_drill: restore the latest backup into a scratch database, compare, drop."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from security.backups import services
from security.backups.models import RestoreDrill


class Command(BaseCommand):
    help = "Restore the latest backup into a scratch database and compare it with its manifest."

    def handle(self, *args, **options):
        drill = services.restore_drill_run()
        for diff in drill.differences:
            self.stdout.write(
                f"{diff['kind']} {diff['name']}: expected {diff['expected']}, found {diff['found']}"
            )
        if drill.state != RestoreDrill.State.PASSED:
            raise CommandError(f"restore drill failed: {drill.error or 'differences found'}")
        self.stdout.write(
            f"restore drill passed: {drill.tables_compared} tables, {drill.rows_compared} rows, "
            f"restored in {drill.restore_seconds:.1f} s"
        )
