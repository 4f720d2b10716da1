"""Browser tests live in tests/e2e/ and nowhere else.

The `browser` fixture is session-scoped: a module elsewhere that imports it gets a second
session-wide Playwright whose event loop stays open, and every later browser test then fails
with "using Playwright Sync API inside the asyncio loop" (it happened once, in CI only)."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_only_tests_e2e_drives_a_browser():
    offenders = [
        str(path.relative_to(TESTS))
        for path in TESTS.rglob("*.py")
        if "e2e" not in path.relative_to(TESTS).parts
        and path.name != Path(__file__).name
        and any(
            needle in path.read_text(encoding="utf-8")
            for needle in ("tests.e2e.conftest", "playwright")
        )
    ]
    assert offenders == [], f"browser tests outside tests/e2e/: {offenders}"
