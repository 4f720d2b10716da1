from django.conf import settings
from django.utils.functional import SimpleLazyObject

from .navigation import menu_for
from .notifications import unread_count


def portal(request):
    """The platform name, the menu for this user and the unread-notification count, each
    computed at most once per page and only if the page shows it."""
    user = getattr(request, "user", None)
    context = {"platform_name": settings.PLATFORM_NAME}
    if user is not None:
        context["nav_items"] = SimpleLazyObject(lambda: menu_for(user, request.path))
        context["unread_notifications"] = SimpleLazyObject(lambda: unread_count(user))
    return context
