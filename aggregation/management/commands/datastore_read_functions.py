"""Make again the masked read functions of every datastore table (storage zones, issue #13).

Loads, rebuilds and moves make them by themselves, and a masking change queues the job that
remakes those of the tables concerned (aggregation/readfunctions.py); run this once after the
upgrade that brought storage zones (tables loaded before have none), or to catch up when that
job failed, as the owner or the worker (`DATABASE_ROLE=worker`): the web's role may make none."""

from django.core.management.base import BaseCommand
from django.db import transaction

from aggregation.datastore import read_functions_current, read_functions_refresh
from aggregation.models import DatastoreTable


class Command(BaseCommand):
    help = "Make again the masked read functions of the datastore tables that need it."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="every table, current or not")

    def handle(self, *args, **options):
        made = 0
        tables = DatastoreTable.objects.select_related("resource").order_by("pk")
        for table in tables:
            if not options["all"] and read_functions_current(table):
                continue
            with transaction.atomic():
                read_functions_refresh(table)
            made += 1
            self.stdout.write(f"{table.schema}.{table.table_name}")
        self.stdout.write(self.style.SUCCESS(f"{made} table(s) given new read functions."))
