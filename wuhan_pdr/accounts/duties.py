"""Separation of duties (MLPS level 3, 三权分立): the system administrator, the security
administrator and the auditor are three different people. No account holds two of these
roles; a superuser counts as the system administrator (decision "separation-of-duties").

The services, the user forms, the Django admin, `createsuperuser` and `create_first_admin`
check it here; a trigger in the database (migration `separation_of_duties`) checks it again
for every other way in.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from wuhan_pdr.kernel.errors import DomainError

from .roles import Role

EXCLUSIVE_ROLES: tuple[str, ...] = (
    str(Role.SYSTEM_ADMIN),
    str(Role.SECURITY_ADMIN),
    str(Role.AUDITOR),
)


class SeparationOfDutiesError(DomainError):
    """An account would hold two of the three administrative roles."""


def exclusive_roles_in(roles: Iterable[str], *, is_superuser: bool = False) -> list[str]:
    """The administrative roles among `roles` (a superuser holds the system administrator's)."""
    held = {str(r) for r in roles} & set(EXCLUSIVE_ROLES)
    if is_superuser:
        held.add(str(Role.SYSTEM_ADMIN))
    return [r for r in EXCLUSIVE_ROLES if r in held]


def check_separation_of_duties(roles: Iterable[str], *, is_superuser: bool = False) -> None:
    """Refuse a set of roles that holds more than one of the three administrative roles."""
    held = exclusive_roles_in(roles, is_superuser=is_superuser)
    if len(held) > 1:
        names = ", ".join(str(Role(r).label) for r in held)
        if is_superuser and str(Role.SYSTEM_ADMIN) in held:
            message = _(
                "A superuser is the system administrator and may not also hold the role "
                "%(roles)s (separation of duties)."
            ) % {"roles": ", ".join(str(Role(r).label) for r in held if r != Role.SYSTEM_ADMIN)}
        else:
            message = _(
                "The system administrator, the security administrator and the auditor must be "
                "different people: one account may not hold %(roles)s together."
            ) % {"roles": names}
        raise SeparationOfDutiesError(message, field="roles", code="separation_of_duties")
