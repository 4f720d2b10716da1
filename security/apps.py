from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = _("Security (Ch. 8)")

    def ready(self) -> None:
        from .backups.setup import register as register_backups

        register_backups()
