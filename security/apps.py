from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = _("Security (Ch. 8)")

    def ready(self) -> None:
        from wuhan_pdr.kernel.navigation import NavItem, register_nav

        from .masking.permissions import can_view_rules

        register_nav(
            NavItem(
                "masking_rules",
                _("Masking rules"),
                "security:masking-rules",
                can_view_rules,
                order=92,
                group="security_group",
            )
        )
        from .assessments import tasks as _assessment_tasks  # noqa: F401  (beat task)
        from .assessments.queues import register as register_assessments
        from .incidents import demo as _incidents_demo  # noqa: F401  (registers its seeder)
        from .incidents.queues import register as register_incidents
        from .tools.setup import register as register_tools

        register_assessments()
        register_incidents()
        register_tools()
        from wuhan_pdr.kernel.errors import register_refusal_observer

        from .audit import receivers
        from .audit import tasks as _audit_tasks  # noqa: F401  (durable tasks register)
        from .audit.navigation import register as register_audit_nav
        from .audit.recording import observe_refusal

        receivers.connect()
        register_refusal_observer(observe_refusal)
        register_audit_nav()
        from .backups.setup import register as register_backups

        register_backups()
