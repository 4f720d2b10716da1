import re
from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render

from .errors import DomainError

_RECORD_ID = re.compile(r"[0-9]{1,18}")


def record_id(text) -> int | None:
    """A record's id as a client wrote it (a query parameter, a filter value, a path part):
    ASCII digits only, at most 18, else None. `str.isdigit()` also accepts "⁴" (which `int()`
    refuses) and `int()` reads "١٢" as 12, so neither names a record here."""
    text = str(text if text is not None else "")
    return int(text) if _RECORD_ID.fullmatch(text) else None


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's refusal next to the field it names, or above the form."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, str(error.message))


def form_page(
    request,
    form: forms.Form,
    template: str,
    *,
    save: Callable[[forms.Form], object],
    done: str,
    message: str,
    context: dict | None = None,
) -> HttpResponse:
    """The body of a create or edit page: on a valid POST call `save(form)` (one service),
    show its refusal on the form, or say `message` and redirect to the URL named `done` with
    the saved object's pk; otherwise render `template` with the form and `context`."""
    if request.method == "POST" and form.is_valid():
        try:
            obj = save(form)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, message)
            return redirect(done, pk=obj.pk)
    return render(request, template, {"form": form, **(context or {})})
