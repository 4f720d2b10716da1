"""Sections of the public home page. A chapter app offers what a visitor can use (its search,
its newest entries...) with `register_home_section()`; the kernel, which imports no app,
renders the sections registered, in order, each with the context its function returns (or
leaves it out when the function returns None). Only what exists is registered: the home page
announces no feature that is not there."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class HomeSection:
    key: str
    template: str
    context: Callable[[object], dict | None]  # called with the request
    order: int = 100


@dataclass(frozen=True)
class RenderedSection:
    key: str
    template: str
    context: dict


_SECTIONS: dict[str, HomeSection] = {}


def register_home_section(section: HomeSection) -> None:
    _SECTIONS[section.key] = section


def home_sections(request) -> list[RenderedSection]:
    out = []
    for s in sorted(_SECTIONS.values(), key=lambda s: (s.order, s.key)):
        context = s.context(request)
        if context is not None:
            out.append(RenderedSection(s.key, s.template, context))
    return out
