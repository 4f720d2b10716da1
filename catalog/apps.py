from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = _("Public data resource catalog (Ch. 4)")

    def ready(self) -> None:
        from wuhan_pdr.accounts.roles import Role, register_role_permissions

        from .bulk import tasks as _bulk_tasks  # noqa: F401  (registers its durable task)
        from .filing import demo as _filing_demo  # noqa: F401 (registers the filing seeder)
        from .filing.queues import register as register_filing
        from .incidents import register as register_incident_resources
        from .queues import register
        from .standards import tasks as _standards_tasks  # noqa: F401  (its durable task)
        from .standards.queues import register as register_standards

        register()
        register_standards()
        register_filing()
        register_incident_resources()
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
