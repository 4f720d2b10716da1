"""manage.py ledger_verify [--log audit] : check the ledger from scratch (exit code 1 on a
problem, naming the first bad entry)."""

from django.core.management.base import BaseCommand, CommandError

from wuhan_pdr.kernel.ledger import LOGS
from wuhan_pdr.kernel.ledger.verify import ledger_verify


class Command(BaseCommand):
    help = (
        "Recompute every leaf hash, the tree, every signed head and its signature, and compare"
        " with the heads exported outside the database; exit 1 naming the first problem."
    )

    def add_arguments(self, parser):
        parser.add_argument("--log", action="append", choices=sorted(LOGS), dest="logs")

    def handle(self, *args, logs=None, **options):
        reports = ledger_verify(logs)
        failed = False
        for report in reports:
            if report.ok:
                head = report.last_head
                self.stdout.write(
                    f"{report.log}: OK, {report.size} entries ({report.checked_entries} checked,"
                    f" {report.pruned_entries} pruned), last head"
                    f" {head.size if head else 0}, {report.exported_heads} exported heads"
                )
            else:
                failed = True
                for problem in report.problems:
                    self.stderr.write(f"FAILED {problem}")
        if failed:
            raise CommandError("the ledger does not verify", returncode=1)
