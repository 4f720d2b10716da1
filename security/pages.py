"""What the security chapter's list pages share: the texts of a list (title, lead, the button
that adds a record, what an empty list says) and the view body that pages the list. The one
template, `security/_list_page.html`, draws the head, the filter bar, the table, pagination
and the empty states; a list's own template gives only its columns and rows."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.functional import Promise

Text = str | Promise


@dataclass(frozen=True)
class ListTexts:
    title: Text
    lead: Text
    search_label: Text
    none_match: Text  # the filters match nothing
    none_yet: Text  # nothing recorded yet
    hint_writer: Text  # ... said to who may add one
    hint_reader: Text  # ... said to who may not
    new_url: str = ""  # URL name of the page that adds a record
    new_label: Text = ""
    parent_url: str = ""  # URL name of the crumb before the list, if any
    parent_label: Text = ""


def list_page(
    request,
    template: str,
    *,
    form,
    qs,
    texts: ListTexts,
    can_write: bool,
    page_size: int = 20,
    **context,
):
    """Page `qs` (already restricted to the user and filtered by `form`) into `template`."""
    page = Paginator(qs, page_size).get_page(request.GET.get("page"))
    return render(
        request,
        template,
        {"form": form, "page_obj": page, "can_write": can_write, "texts": texts, **context},
    )
