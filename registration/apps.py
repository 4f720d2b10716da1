from importlib import import_module

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Each sub-package registers its navigation, queues, seeders, hooks and tasks from its hooks.py.
PARTS = ("evidence", "applications")


class RegistrationConfig(AppConfig):
    name = "registration"
    verbose_name = _("Registration (Ch. 7)")

    def ready(self) -> None:
        for part in PARTS:
            import_module(f"registration.{part}.hooks").register()
