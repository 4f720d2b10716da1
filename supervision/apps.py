from importlib import import_module

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Each sub-package registers its navigation, queues, seeders, hooks and tasks from its hooks.py.
PARTS: tuple[str, ...] = ("evaluation", "rectification", "disputes", "inspections", "dashboard")


class SupervisionConfig(AppConfig):
    name = "supervision"
    verbose_name = _("Supervision (Ch. 9)")

    def ready(self) -> None:
        for part in PARTS:
            import_module(f"supervision.{part}.hooks").register()
