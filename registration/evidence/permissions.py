"""Who may deposit and see deposits. A missing and a forbidden deposit are both a 404."""

from __future__ import annotations

from django.http import Http404

from catalog.permissions import FILER_ROLES
from wuhan_pdr.accounts.roles import Role, has_role
from wuhan_pdr.kernel.errors import observe_refusals

from .models import Deposit
from .selectors import deposits_visible_q, parse_public_id


def may_deposit(user) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.organization_id
        and has_role(user, *FILER_ROLES, Role.OPERATOR)
    )


def may_download(user, deposit: Deposit) -> bool:
    """An open distribution is anyone's; other data only the holder's staff (audited)."""
    if deposit.state != Deposit.State.DONE:
        return False
    if deposit.kind == Deposit.Kind.OPEN_DATA:
        return True
    return bool(
        getattr(user, "is_authenticated", False)
        and user.organization_id == deposit.holder_id
        and has_role(user, *FILER_ROLES, Role.OPERATOR)
    )


@observe_refusals("access.deposit", actor_arg="user")
def access_deposit(user, public_id) -> Deposit:
    found_id = parse_public_id(str(public_id))
    if found_id is None:
        raise Http404
    found = (
        Deposit.objects.filter(deposits_visible_q(user), public_id=found_id)
        .select_related("holder", "resource__published_version", "created_by")
        .first()
    )
    if found is None:
        raise Http404
    return found
