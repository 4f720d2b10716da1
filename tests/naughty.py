"""The Big List of Naughty Strings (shared/data/naughty-strings/blns.json, beside the
repository): every text input and search box of the portal is tried with it."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

BLNS = Path(__file__).resolve().parents[2] / "shared" / "data" / "naughty-strings" / "blns.json"


@cache
def _load() -> tuple[str, ...]:
    return tuple(json.loads(BLNS.read_text(encoding="utf-8")))


def naughty_strings() -> list[str]:
    """The ~500 strings. shared/ sits beside the repository on our machines and in CI: its
    absence is a broken checkout, so the test fails rather than passes."""
    if not BLNS.is_file():
        pytest.fail(f"the naughty-strings list is not there: {BLNS}", pytrace=False)
    strings = list(_load())
    assert len(strings) > 400, f"{BLNS} looks truncated ({len(strings)} strings)"
    return strings
