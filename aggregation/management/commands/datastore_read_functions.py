"""Make again the masked read functions of every datastore table (storage zones, issue #13),
and fill the stored keyed hashes that are not current (decision "stored-keyed-hash").

Loads, rebuilds and moves make them by themselves, and a masking change queues the job that
remakes those of the tables concerned (aggregation/readfunctions.py); run this once after the
upgrade that brought storage zones (tables loaded before have none) or stored keyed hashes,
after a rotation of MASKING_HMAC_KEY (the hourly sweep would queue the same work), or to
catch up when that job failed, as the owner or the worker (`DATABASE_ROLE=worker`): the
web's role may make none."""

from django.core.management.base import BaseCommand
from django.db import transaction

from aggregation.datastore import read_functions_current, read_functions_refresh, stored_hashes_due
from aggregation.models import DatastoreTable
from aggregation.readfunctions import stored_hashes_backfill


class Command(BaseCommand):
    help = (
        "Make again the masked read functions of the datastore tables that need it, and fill "
        "their stored keyed hashes under the masking key in force."
    )

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="every table, current or not")
        parser.add_argument(
            "--no-hashes", action="store_true", help="leave the stored keyed hashes alone"
        )

    def handle(self, *args, **options):
        made = filled = 0
        tables = DatastoreTable.objects.select_related("resource").order_by("pk")
        for table in tables:
            if options["all"] or not read_functions_current(table):
                with transaction.atomic():
                    read_functions_refresh(table)
                made += 1
                self.stdout.write(f"{table.schema}.{table.table_name}")
            if not options["no_hashes"] and stored_hashes_due(table):
                filled += stored_hashes_backfill(table_ids=[table.pk])
                self.stdout.write(f"{table.schema}.{table.table_name}: keyed hashes filled")
        self.stdout.write(self.style.SUCCESS(f"{made} table(s) given new read functions."))
        if not options["no_hashes"]:
            self.stdout.write(self.style.SUCCESS(f"{filled} table(s) given stored keyed hashes."))
