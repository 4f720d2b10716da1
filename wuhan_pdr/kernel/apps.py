from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KernelConfig(AppConfig):
    name = "wuhan_pdr.kernel"
    label = "kernel"
    verbose_name = _("Platform kernel")

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (registers the periodic tasks)
