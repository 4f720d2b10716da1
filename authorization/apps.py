from importlib import import_module

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Each sub-package registers its navigation, queues, seeders, hooks and tasks from its hooks.py.
PARTS = ("sharing", "supply", "opendata", "sandbox", "operation", "revenue", "pilots", "interop")


class AuthorizationConfig(AppConfig):
    name = "authorization"
    verbose_name = _("Sharing, opening and authorized operation (Ch. 6)")

    def ready(self) -> None:
        for part in PARTS:
            import_module(f"authorization.{part}.hooks").register()
