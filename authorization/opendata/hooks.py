"""What authorization.opendata registers with the kernel and other apps, called from
AppConfig.ready()."""

from django.urls import reverse
from django.utils.translation import pgettext_lazy

from wuhan_pdr.kernel.navigation import NavItem, everyone, register_nav, signed_in


def register() -> None:
    from aggregation.after_load import register_after_load
    from catalog.actions import ResourceAction, register_resource_action

    from . import demo, queues, tasks  # noqa: F401  (the seeder and the durable task register)
    from .services import after_load, may_apply

    register_nav(
        NavItem(
            "open_data",
            pgettext_lazy("open data", "Open data"),
            "opendata:list",
            everyone,
            order=10,
        )
    )
    register_after_load("opendata", after_load)
    queues.register()
    register_nav(
        NavItem(
            "open_applications",
            pgettext_lazy("open data", "Open-data applications"),
            "opendata:applications",
            signed_in,
            order=60,
        )
    )
    register_resource_action(
        ResourceAction(
            key="open_application",
            label=pgettext_lazy("open data", "Apply to use this data"),
            url=lambda resource: reverse("opendata:apply", args=[resource.pk]),
            allowed=may_apply,
        )
    )
