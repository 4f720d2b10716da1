from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.module_loading import autodiscover_modules

from wuhan_pdr.kernel.demo import seeders


class Command(BaseCommand):
    help = "Load the demo organizations, users and records (idempotent; refused in production)."

    def handle(self, *args, **options):
        if not settings.DEMO_SEED_ALLOWED:
            raise CommandError("seed_demo is refused under production settings.")
        autodiscover_modules("demo")  # each app's demo.py registers its seeder

        context: dict = {}
        with transaction.atomic():
            for seeder in seeders():
                seeder.run(context)
                self.stdout.write(f"seeded {seeder.name}")
        self.stdout.write(self.style.SUCCESS("demo data ready"))
