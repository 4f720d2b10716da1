"""What authorization.opendata registers with the kernel and other apps, called from
AppConfig.ready()."""

from django.utils.translation import pgettext_lazy

from wuhan_pdr.kernel.navigation import NavItem, everyone, register_nav


def register() -> None:
    from aggregation.after_load import register_after_load

    from . import demo, tasks  # noqa: F401  (the seeder and the durable task register)
    from .services import after_load

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
