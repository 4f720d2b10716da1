"""Check a deposit's proof bundle offline: `manage.py evidence_verify bundle.json [file]
[--public-key BASE64]`. No database is read: the checks are those of
registration/evidence/offline.py (the standard library and `cryptography`)."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from registration.evidence.offline import bundle_ok, check_bundle


def _chunks(path: Path):
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            yield block


class Command(BaseCommand):
    help = "Verify an evidence proof bundle (and optionally the deposited file) offline."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("bundle")
        parser.add_argument("file", nargs="?")
        parser.add_argument(
            "--public-key",
            default=None,
            help="The ledger's Ed25519 public key in base64, as published on /ledger/.",
        )

    def handle(self, *args, **options):
        try:
            bundle = json.loads(Path(options["bundle"]).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read the bundle: {exc}") from exc
        data = None
        if options["file"]:
            path = Path(options["file"])
            if not path.is_file():
                raise CommandError(f"no such file: {path}")
            data = _chunks(path)
        results = check_bundle(bundle, data=data, public_key=options["public_key"])
        for what, ok in results:
            self.stdout.write(f"{'OK  ' if ok else 'FAIL'} {what}")
        if not bundle_ok(results):
            raise CommandError("the bundle does not verify")
        self.stdout.write("verified")
