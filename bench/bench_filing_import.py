"""Issue #5: importing an Excel bulk filing of 5,000 resources and 50,000 data items.

A valid workbook (bench/filing_workbook.py) is uploaded through `bulk_filing_upload` for a
benchmark agency; then a fresh Python process (as the Celery worker would) runs the job's
service `bulk_filing_process`: read the workbook (openpyxl read-only), check every row with
the form's rules, import every resource as a draft in one transaction. Figures:

- `filing.import.seconds`: wall time of that service call (check + import); target < 60.
- `filing.import.peak_mb`: what the call adds to a worker's memory: its resident memory
  sampled every 5 ms while the call runs (bench/rss.py, as the ingest benchmark does), highest
  sample minus the resident memory just before the call; target at most 256 MB. Not
  ru_maxrss: that counts set-up, and on Linux a child started by subprocess even inherits
  the high-water mark of the parent it was forked from (bench/run.py after other benchmarks),
  which made both figures read ~470 MB.

Baseline, in the same run: the same kind of process only reading the workbook with the same
reader (`read_workbook`), its time and peak growth. Imported rows are deleted afterwards, so
the benchmark database does not grow from run to run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from django.contrib.auth.models import Group
from django.core.files import File
from django.db import transaction
from filing_workbook import generate

from catalog.bulk.models import BulkFiling
from catalog.bulk.services import bulk_filing_upload
from catalog.models import DataItem, Resource, ResourceVersion
from wuhan_pdr.accounts.demo import demo_credit_code
from wuhan_pdr.accounts.models import Division, Organization, User
from wuhan_pdr.accounts.roles import Role

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
N_RESOURCES = 5000
ITEMS_EACH = 10

CHILD = r"""
import json, sys, time
sys.path.insert(0, {root!r})
sys.path.insert(0, {bench!r})
import django
django.setup()
from rss import PeakRSS

mode, arg = sys.argv[1], sys.argv[2]
# What a running worker has loaded already (modules, the connection, the vocabulary), so that
# the growth measured is the call's own.
import openpyxl  # noqa: F401
from catalog.bulk import marking  # noqa: F401
from catalog.bulk.checks import check_workbook
from catalog.bulk.reader import read_workbook
from catalog.bulk.services import bulk_filing_process
from catalog.bulk.vocabulary import Vocabulary
Vocabulary.load()
t0 = time.perf_counter()
with PeakRSS() as rss:
    if mode == "import":
        outcome = bulk_filing_process(filing_id=int(arg))
    else:
        rows = read_workbook(arg)
        outcome = f"{{len(rows.resources.rows)}} + {{len(rows.items.rows)}} rows"
seconds = time.perf_counter() - t0
print(json.dumps({{"seconds": seconds, "peak_mb": rss.growth, "before_mb": rss.before,
                  "samples": rss.samples, "outcome": outcome}}))
"""


def _actor() -> User:
    org, _ = Organization.objects.get_or_create(
        name="基准测试批量编目局",
        defaults={
            "kind": Organization.Kind.CITY_AGENCY,
            "division": Division.objects.get(code="420100"),
            "credit_code": demo_credit_code("1", "1", "420100", 990_005),
        },
    )
    user, created = User.objects.get_or_create(
        username="bench_bulk_filing",
        defaults={"full_name": "批量编目基准", "organization": org, "is_active": True},
    )
    if created or user.has_usable_password():
        user.set_unusable_password()
        user.save()
    user.groups.add(Group.objects.get(name=Role.AGENCY_STAFF))
    return user


def _clean(org: Organization) -> None:
    with transaction.atomic():
        for filing in BulkFiling.objects.filter(organization=org):
            filing.workbook.delete(save=False)
            if filing.marked_workbook:
                filing.marked_workbook.delete(save=False)
        BulkFiling.resources.through.objects.filter(bulkfiling__organization=org).delete()
        BulkFiling.history.filter(organization=org).delete()
        BulkFiling.objects.filter(organization=org).delete()
        versions = ResourceVersion.objects.filter(resource__provider=org)
        DataItem.objects.filter(version__in=versions).delete()
        ResourceVersion.history.filter(resource__provider=org).delete()
        versions.delete()
        Resource.objects.filter(provider=org).delete()


def _child(mode: str, arg: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(root=str(ROOT), bench=str(BENCH)), mode, arg],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        cwd=ROOT,
        timeout=600,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{mode} process failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run() -> list[dict]:
    user = _actor()
    org = user.organization
    _clean(org)
    with tempfile.TemporaryDirectory() as tmp:
        path = generate(Path(tmp) / "bulk-5000.xlsx", n=N_RESOURCES, items_each=ITEMS_EACH)
        size_mb = path.stat().st_size / (1024 * 1024)
        baseline = _child("read", str(path))
        with open(path, "rb") as f:
            filing = bulk_filing_upload(acting_user=user, upload=File(f, name="bulk-5000.xlsx"))
    try:
        measured = _child("import", str(filing.pk))
        filing.refresh_from_db()
        if filing.state != BulkFiling.State.IMPORTED:
            raise RuntimeError(f"the benchmark workbook was not imported: {filing.errors[:5]}")
        assert filing.resources_count == N_RESOURCES
        assert filing.items_count == N_RESOURCES * ITEMS_EACH
    finally:
        _clean(org)
    method = (
        f"one {size_mb:.1f} MB workbook of {N_RESOURCES} resources / "
        f"{N_RESOURCES * ITEMS_EACH} items checked and imported as drafts by "
        "bulk_filing_process in a fresh process (as the worker runs it); baseline: the same "
        "reader alone in the same kind of process"
    )
    return [
        {
            "name": "filing.import.seconds",
            "value": round(measured["seconds"], 2),
            "unit": "s",
            "target": "< 60",
            "baseline": round(baseline["seconds"], 2),
            "method": method + " (seconds)",
            "read_only_seconds": round(baseline["seconds"], 2),
        },
        {
            "name": "filing.import.peak_mb",
            "value": round(measured["peak_mb"], 1),
            "unit": "MB",
            "target": "<= 256",
            "baseline": round(baseline["peak_mb"], 1),
            "method": method + " (peak RSS growth: RSS sampled every 5 ms during the call, "
            "highest sample minus RSS just before it)",
            "read_only_peak_mb": round(baseline["peak_mb"], 1),
            "rss_before_mb": round(measured["before_mb"], 1),
            "samples": measured["samples"],
        },
    ]
