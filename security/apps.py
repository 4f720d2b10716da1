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
