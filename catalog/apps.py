from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = _("Public data resource catalog (Ch. 4)")

    def ready(self) -> None:
        from wuhan_pdr.accounts.roles import Role, register_role_permissions

        from .queues import register
        from .standards.queues import register as register_standards

        register()
        register_standards()
        register_role_permissions(
            Role.SYSTEM_ADMIN,
            [
                "catalog.view_classification",
                "catalog.change_classification",
                "catalog.add_classification",
            ],
        )
        register_role_permissions(
            Role.SECURITY_ADMIN, ["security.view_grade", "security.change_grade"]
        )
