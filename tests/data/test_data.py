"""The test data lives in the repository: a fresh clone, with nothing beside it, has every file
the suite reads, each with its licence, and a test parametrized over files that finds none
fails instead of quietly becoming a skip."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.data import DATA, data_file, data_files

REPO = DATA.parents[1]
# Code reaching the design folder beside the repository: a path built from the repository's
# parent (a path joined with the folder name SIBLING) or a string starting with "../" SIBLING.
SIBLING = "sha" + "red"  # spelled apart so that this file does not name the folder itself
PY_OUTSIDE = re.compile(rf"""/\s*["']{SIBLING}["']|["']\.\./{SIBLING}\b""")
SHELL_OUTSIDE = re.compile(rf"\.\./{SIBLING}\b")


def _sources() -> list[Path]:
    files = [REPO / "Makefile", *sorted((REPO / ".ci").glob("*"))]
    for folder in ("tests", "bench", "wuhan_pdr", "catalog", "aggregation", "security"):
        files += sorted((REPO / folder).rglob("*.py"))
    return [f for f in files if f.is_file()]


def test_nothing_reads_beside_the_repository():
    readers = []
    for path in _sources():
        pattern = PY_OUTSIDE if path.suffix == ".py" else SHELL_OUTSIDE
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line.split("#", 1)[0]):
                readers.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert readers == [], "read from tests/data/ instead:\n" + "\n".join(readers)


@pytest.mark.parametrize(
    ("folder", "files", "licence"),
    [
        ("naughty-strings", ["blns.json"], "LICENSE"),
        (
            "admin-divisions",
            ["provinces.csv", "cities.csv", "areas.csv", "streets.csv"],
            "LICENSE",
        ),
        ("csv-spectrum", ["csvs/simple.csv", "json/simple.json"], "LICENSE-NOTE"),
    ],
)
def test_each_data_set_is_here_with_its_licence_and_its_origin(folder, files, licence):
    for name in files:
        assert data_file(folder, name).stat().st_size > 0
    assert data_file(folder, licence).read_text(encoding="utf-8").strip()
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    assert f"`{folder}/`" in readme and f"`{folder}/{licence}`" in readme


def test_csv_spectrum_cases_each_have_their_expected_records():
    cases = data_files("csv-spectrum", "csvs/*.csv")
    assert len(cases) == 12
    for case in cases:
        assert data_file("csv-spectrum", "json", f"{case.stem}.json")


def test_a_missing_data_set_fails_rather_than_skips():
    with pytest.raises(pytest.fail.Exception, match="tests/data/README.md"):
        data_files("no-such-data", "*.csv")
    with pytest.raises(pytest.fail.Exception, match="is missing"):
        data_file("naughty-strings", "no-such-list.json")


def test_a_test_parametrized_over_no_files_fails_its_collection(tmp_path):
    """Under the project's pytest options, an empty parameter set is an error, not a skip."""
    (tmp_path / "test_empty.py").write_text(
        "import pytest\n\n@pytest.mark.parametrize('name', [])\ndef test_each(name):\n    pass\n",
        encoding="utf-8",
    )
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(REPO / "pyproject.toml"),
            # The project's ini options, without Django (not needed to collect, and slow).
            "-o",
            "addopts=",
            "-p",
            "no:django",
            "--collect-only",
            "-q",
            str(tmp_path / "test_empty.py"),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        timeout=120,
        check=False,
    )
    assert out.returncode != 0, out.stdout
    assert "Empty parameter set" in out.stdout + out.stderr
