"""Run the benchmarks in bench/ and write bench/results/latest.json.

Each module `bench/bench_<name>.py` exposes `run() -> list[dict]`, one dict per measured
figure with the keys `name`, `value`, `unit`, `target`, `baseline` and `method` (see
bench/README.md). `make bench` creates and migrates the benchmark database first; then

    python bench/run.py                 # every benchmark; rewrites latest.json
    python bench/run.py --only search   # bench_search.py only; merges into latest.json

Benchmarks run under `wuhan_pdr.settings.local` against BENCH_DATABASE_URL (default: the
database `wuhan_pdr_bench` on the local server), never against the development database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results" / "latest.json"
DEFAULT_BENCH_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/wuhan_pdr_bench"
REQUIRED = ("name", "value", "unit", "method")  # target and baseline may be None


def configure_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuhan_pdr.settings.local")
    # The benchmark database, whatever DATABASE_URL says: benchmarks load large data sets.
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", DEFAULT_BENCH_DATABASE_URL)
    for path in (str(ROOT), str(BENCH_DIR)):
        if path not in sys.path:
            sys.path.insert(0, path)
    import django

    django.setup()


def discover(only: str | None) -> list[str]:
    names = sorted(p.stem.removeprefix("bench_") for p in BENCH_DIR.glob("bench_*.py"))
    if only is None:
        return names
    only = only.removeprefix("bench_").removesuffix(".py")
    if only not in names:
        known = ", ".join(names) or "none yet"
        raise SystemExit(f"no benchmark named {only!r} (bench/bench_{only}.py); known: {known}")
    return [only]


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def machine_info() -> dict:
    from django.db import connection

    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = next(
        (
            int(line.split()[1])
            for line in _read("/proc/meminfo").splitlines()
            if line.startswith("MemTotal:")
        ),
        0,
    )
    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        postgres = cur.fetchone()[0]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    import django

    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgres": postgres,
        "git_commit": commit,
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def check_result(benchmark: str, row: object) -> dict:
    if not isinstance(row, dict):
        raise TypeError(f"bench_{benchmark}.run() returned a {type(row).__name__}, not a dict")
    missing = [k for k in REQUIRED if k not in row]
    if missing:
        raise ValueError(f"bench_{benchmark}: result {row.get('name')!r} lacks {missing}")
    ordered = ("name", "value", "unit", "target", "baseline", "method")
    return {"benchmark": benchmark, **{k: row.get(k) for k in ordered}, **row}


def factories_past_the_database() -> None:
    """factory_boy's sequences restart in each process while the bench database keeps what
    earlier runs made: start every benchmark's organizations and users past them, so that
    names, credit codes and user names never collide (whichever benchmark ran first)."""
    from tests.accounts.factories import OrganizationFactory, UserFactory
    from wuhan_pdr.accounts.models import Organization, User

    OrganizationFactory.reset_sequence(Organization.objects.count() + 100_000)
    UserFactory.reset_sequence(User.objects.count() + 100_000)


def run_one(name: str) -> list[dict]:
    factories_past_the_database()
    module = importlib.import_module(f"bench_{name}")
    started = time.perf_counter()
    rows = [check_result(name, row) for row in module.run()]
    print(f"  bench_{name}: {len(rows)} result(s) in {time.perf_counter() - started:.1f} s")
    for row in rows:
        print(f"    {row['name']}: {row['value']} {row['unit']} (target {row['target']})")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", help="run one benchmark (bench/bench_NAME.py) and merge")
    args = parser.parse_args(argv)

    configure_django()
    from django.db import OperationalError

    try:
        machine = machine_info()
    except OperationalError as exc:
        print(
            f"cannot reach the benchmark database: {exc}\nRun `make bench`, which creates "
            "and migrates it.",
            file=sys.stderr,
        )
        return 2

    names = discover(args.only)
    print(f"benchmarks: {', '.join(names) or 'none yet (bench/bench_*.py)'}")
    results: list[dict] = []
    failed: list[str] = []
    for name in names:
        try:
            results += run_one(name)
        except Exception:  # report every failing benchmark, then go on with the others
            traceback.print_exc()
            failed.append(name)

    if args.only and RESULTS.exists():
        previous = json.loads(RESULTS.read_text())
        kept = [r for r in previous.get("results", []) if r.get("benchmark") not in names]
        results = kept + results
    results.sort(key=lambda r: r["benchmark"])  # stable: each benchmark keeps its order

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    document = {"machine": machine, "results": results}
    if failed:
        document["failed"] = failed
    RESULTS.write_text(json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)} ({len(results)} result(s))")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
