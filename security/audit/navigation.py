from django.utils.translation import gettext_lazy as _

from wuhan_pdr.kernel.navigation import NavItem, register_nav

from .permissions import may_read_audit


def register() -> None:
    register_nav(
        NavItem("audit_log", _("Audit log"), "security:audit_list", may_read_audit, order=92)
    )
