"""Panels another chapter adds to a record's page without the record's chapter importing it.

A page names its kind of record (e.g. "sharing.request", "objections.objection",
"revenue.revenue", "filing.project"); `register_record_panel(kind, provider)` adds
`provider(record, user)`, which returns a `RecordPanel` or None (nothing for that user). The
supervision chapter shows a share request's disputes and offers "raise a dispute" this way,
and an IT project's latest evaluation score (Art. 29); upstream never imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RecordPanel:
    title: str
    # (label, value) pairs shown as a description list.
    lines: tuple[tuple[str, str], ...] = ()
    # (label, url) pairs shown as a list of links.
    links: tuple[tuple[str, str], ...] = ()
    # An action button (url, label), e.g. "raise a dispute".
    action_url: str = ""
    action_label: str = ""


RecordPanelProvider = Callable[[object, object], "RecordPanel | None"]
_PANELS: dict[str, list[RecordPanelProvider]] = {}


def register_record_panel(kind: str, provider: RecordPanelProvider) -> RecordPanelProvider:
    """Registering the same provider twice has no effect."""
    providers = _PANELS.setdefault(kind, [])
    if provider not in providers:
        providers.append(provider)
    return provider


def unregister_record_panel(kind: str, provider: RecordPanelProvider) -> None:
    if provider in _PANELS.get(kind, []):
        _PANELS[kind].remove(provider)


def record_panels(kind: str, record, user) -> list[RecordPanel]:
    panels = []
    for provider in _PANELS.get(kind, []):
        panel = provider(record, user)
        if panel is not None:
            panels.append(panel)
    return panels
