from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = _("Security (Ch. 8)")

    def ready(self) -> None:
        from wuhan_pdr.kernel.errors import register_refusal_observer

        from .audit import receivers
        from .audit import tasks as _audit_tasks  # noqa: F401  (durable tasks register)
        from .audit.navigation import register as register_audit_nav
        from .audit.recording import observe_refusal

        receivers.connect()
        register_refusal_observer(observe_refusal)
        register_audit_nav()
