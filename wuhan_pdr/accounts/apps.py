from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "wuhan_pdr.accounts"
    label = "accounts"
    verbose_name = _("Organizations and users")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from . import tasks  # noqa: F401  (registers the durable tasks)
        from .middleware import decide_gate_at_login
        from .navigation import register
        from .roles import sync_role_groups

        register()

        # After every migrate, the role groups carry exactly the permissions declared in
        # roles.py (chapter apps add theirs with register_role_permissions()).
        post_migrate.connect(sync_role_groups, dispatch_uid="accounts.sync_role_groups")
        user_logged_in.connect(decide_gate_at_login, dispatch_uid="accounts.decide_gate_at_login")
