from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.module_loading import autodiscover_modules

from wuhan_pdr.kernel.demo import seeders


class Command(BaseCommand):
    help = "Load the demo organizations, users and records (idempotent; refused in production)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--only",
            action="append",
            metavar="SEEDER",
            help="Run only these seeders (and the ones they need run before them, by order); "
            "e.g. --only accounts. Default: all.",
        )

    def handle(self, *args, only=None, **options):
        if not settings.DEMO_SEED_ALLOWED:
            raise CommandError("seed_demo is refused under production settings.")
        autodiscover_modules("demo")  # each app's demo.py registers its seeder

        chosen = seeders()
        if only:
            known = {s.name for s in chosen}
            unknown = sorted(set(only) - known)
            if unknown:
                raise CommandError(
                    f"unknown seeder(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}"
                )
            last = max(s.order for s in chosen if s.name in only)
            chosen = [s for s in chosen if s.order <= last]
        context: dict = {}
        with transaction.atomic():
            for seeder in chosen:
                seeder.run(context)
                self.stdout.write(f"seeded {seeder.name}")
        self.stdout.write(self.style.SUCCESS("demo data ready"))
