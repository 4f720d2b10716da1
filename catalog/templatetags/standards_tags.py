"""Template helpers of the data-element standard, for pages of other parts of the catalog."""

from django import template

register = template.Library()


@register.simple_tag
def element_replacement(element):
    """The element named as replacement when `element` was retired (None otherwise). One
    query per retired element shown; current and superseded ones cost nothing."""
    if element is None or element.status != "retired":
        return None
    cached = getattr(element, "_replacement", False)
    if cached is False:
        from catalog.standards.selectors import replacement_of

        cached = element._replacement = replacement_of(element)
    return cached


@register.simple_tag
def sees_change_requests(user) -> bool:
    """Whether the standards pages offer `user` the list of change requests."""
    from catalog.standards.permissions import can_request_for, is_city_reviewer
    from wuhan_pdr.accounts.roles import Role, has_role

    if not getattr(user, "is_authenticated", False):
        return False
    return (
        can_request_for(user, user.organization)
        or is_city_reviewer(user)
        or has_role(user, Role.AUDITOR)
    )
