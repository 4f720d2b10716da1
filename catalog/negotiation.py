"""Other representations of the public catalog's list, without the catalog importing them.

`/catalog/` is an HTML page; a later chapter (authorization.interop, issue #18) registers a
handler that answers the same URL in RDF (DCAT) when the client's Accept header asks for it.
A handler returns a response, or None to leave the request to the HTML page. The page's
response varies on Accept either way.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

Handler = Callable[[HttpRequest], HttpResponse | None]

_HANDLERS: dict[str, Handler] = {}


def register_catalog_representation(key: str, handler: Handler) -> None:
    """Let `handler` answer `/catalog/` first (registering the same key again replaces it)."""
    _HANDLERS[key] = handler


def negotiated_response(request: HttpRequest) -> HttpResponse | None:
    """The first registered handler's response to `request`, or None."""
    for handler in _HANDLERS.values():
        response = handler(request)
        if response is not None:
            return response
    return None
