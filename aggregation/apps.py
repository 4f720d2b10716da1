from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AggregationConfig(AppConfig):
    name = "aggregation"
    verbose_name = _("Provision and aggregation (Ch. 3, 5)")

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (durable tasks register themselves)
        from .queues import register

        register()
