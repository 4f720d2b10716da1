"""Who may see and act on operation authorizations, products and yearly disclosures.

- the operator's people (role `operator` in the operator organization) apply, withdraw, list
  products and draft the yearly disclosure;
- the authorizing bureau's reviewers (`city_reviewer` of the city bureau, `district_reviewer`
  of a district bureau) review, approve, suspend and revoke the authorizations *it* grants, and
  check and publish the yearly disclosures of operators it has authorized; the city bureau's
  reviewers set the fee caps;
- a provider's data officer sees the authorizations that include its resources (consent);
- auditors read everything. Everyone else gets a 404 (`access_*`).
The public disclosure pages need none of this: they show only what Art. 20 makes public.
"""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role, has_role
from wuhan_pdr.kernel.errors import observe_refusals

from .models import OperationAuthorization, Product, YearlyDisclosure

NOTHING = Q(pk__in=[])


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def is_operator(user) -> bool:
    return bool(_active(user) and user.organization_id and has_role(user, Role.OPERATOR))


def is_bureau_reviewer(user) -> bool:
    """A reviewer of a bureau that may authorize: the city bureau or a district bureau."""
    if not _active(user) or not user.organization_id:
        return False
    kind = user.organization.kind
    return (kind == Organization.Kind.CITY_BUREAU and has_role(user, Role.CITY_REVIEWER)) or (
        kind == Organization.Kind.DISTRICT_BUREAU and has_role(user, Role.DISTRICT_REVIEWER)
    )


def is_city_reviewer(user) -> bool:
    return bool(
        _active(user)
        and user.organization_id
        and user.organization.kind == Organization.Kind.CITY_BUREAU
        and has_role(user, Role.CITY_REVIEWER)
    )


def reviews(authorization: OperationAuthorization, user) -> bool:
    """Whether `user` is a reviewer of the bureau that grants this authorization."""
    return is_bureau_reviewer(user) and user.organization_id == authorization.authorizing_body_id


def holds(authorization: OperationAuthorization, user) -> bool:
    return is_operator(user) and user.organization_id == authorization.operator_id


def authorizations_visible_q(user) -> Q:
    if not _active(user):
        return NOTHING
    if has_role(user, Role.AUDITOR):
        return Q()
    q = NOTHING
    if is_operator(user):
        q |= Q(operator_id=user.organization_id)
    if is_bureau_reviewer(user):
        q |= Q(authorizing_body_id=user.organization_id)
    if user.organization_id and has_role(user, Role.AGENCY_ADMIN):
        q |= Q(entries__resource__provider_id=user.organization_id)
    return q


def _pk(pk) -> int:
    try:
        return int(pk)
    except (TypeError, ValueError):
        raise Http404 from None


@observe_refusals(
    "access.operationauthorization",
    actor_arg="user",
    object_arg="pk",
    model="authorization.OperationAuthorization",
)
def access_authorization(user, pk) -> OperationAuthorization:
    pk = _pk(pk)
    ids = OperationAuthorization.objects.filter(authorizations_visible_q(user), pk=pk).values("pk")
    found = (
        OperationAuthorization.objects.filter(pk__in=ids)
        .select_related("operator", "authorizing_body", "applicant", "domain", "region")
        .first()
    )
    if found is None:
        raise Http404
    return found


def may_manage_products(user, operator: Organization) -> bool:
    return is_operator(user) and user.organization_id == operator.pk


def access_product(user, pk) -> Product:
    """A product its operator edits."""
    pk = _pk(pk)
    if not is_operator(user):
        raise Http404
    found = Product.objects.filter(pk=pk, operator_id=user.organization_id).first()
    if found is None:
        raise Http404
    return found


def publishes_for(user, operator_id: int) -> bool:
    """Whether `user` is a reviewer of a bureau that has authorized this operator (approved,
    in force or ended): that bureau checks and publishes the operator's yearly report."""
    return (
        is_bureau_reviewer(user)
        and OperationAuthorization.objects.filter(
            operator_id=operator_id,
            authorizing_body_id=user.organization_id,
            state__in=OperationAuthorization.DISCLOSED,
        ).exists()
    )


def disclosures_visible_q(user) -> Q:
    if not _active(user):
        return NOTHING
    if has_role(user, Role.AUDITOR):
        return Q()
    q = NOTHING
    if is_operator(user):
        q |= Q(operator_id=user.organization_id)
    if is_bureau_reviewer(user):
        q |= Q(
            operator__operation_authorizations__authorizing_body_id=user.organization_id,
            operator__operation_authorizations__state__in=OperationAuthorization.DISCLOSED,
        )
    return q


def access_disclosure(user, pk) -> YearlyDisclosure:
    pk = _pk(pk)
    ids = YearlyDisclosure.objects.filter(disclosures_visible_q(user), pk=pk).values("pk")
    found = YearlyDisclosure.objects.filter(pk__in=ids).select_related("operator").first()
    if found is None:
        raise Http404
    return found
