from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = _("Security (Ch. 8)")

    def ready(self) -> None:
        from .assessments import tasks as _assessment_tasks  # noqa: F401  (beat task)
        from .assessments.queues import register as register_assessments
        from .incidents import demo as _incidents_demo  # noqa: F401  (registers its seeder)
        from .incidents.queues import register as register_incidents

        register_assessments()
        register_incidents()
