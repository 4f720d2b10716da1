"""Public data the tests read, kept in the repository with its licence (see README.md here).

Everything is read from this folder: nothing at test or benchmark time looks beside the
repository, so a fresh clone has all it needs. A missing file is a broken checkout, so the
helpers below fail the test (or the collection of a parametrized test) rather than skip it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent


def data_file(*parts: str) -> Path:
    """The file tests/data/<parts>; fails the test clearly when it is not there."""
    path = DATA.joinpath(*parts)
    if not path.is_file():
        pytest.fail(
            f"{path} is missing: the tests read their public data from tests/data/ "
            "(see tests/data/README.md)",
            pytrace=False,
        )
    return path


def data_files(folder: str, pattern: str) -> list[Path]:
    """The files of tests/data/<folder> matching `pattern`, sorted; fails when there are none,
    so that a test parametrized over them cannot silently become an empty parameter set."""
    files = sorted((DATA / folder).glob(pattern))
    if not files:
        pytest.fail(
            f"no {pattern} in {DATA / folder}: the tests read their public data from "
            "tests/data/ (see tests/data/README.md)",
            pytrace=False,
        )
    return files
