"""The Big List of Naughty Strings (tests/data/naughty-strings/blns.json, see
tests/data/README.md): every text input and search box of the portal is tried with it."""

from __future__ import annotations

import json
from functools import cache

from tests.data import data_file


@cache
def _load() -> tuple[str, ...]:
    path = data_file("naughty-strings", "blns.json")
    return tuple(json.loads(path.read_text(encoding="utf-8")))


def naughty_strings() -> list[str]:
    """The ~500 strings. They are part of the repository: their absence is a broken
    checkout, so the test fails rather than passes."""
    strings = list(_load())
    assert len(strings) > 400, f"the naughty-strings list looks truncated ({len(strings)})"
    return strings
