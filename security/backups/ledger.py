"""The ledger's roots as backup fingerprints: per log, the size and root hash of its last
signed tree head, read in the dump's snapshot and again in the restored database (issue 13,
item 9). `security` may import the kernel; the kernel cannot import `security`, so the
registration lives here."""

from __future__ import annotations

from psycopg import sql

from wuhan_pdr.kernel.ledger import LOGS
from wuhan_pdr.kernel.ledger.merkle import EMPTY_ROOT
from wuhan_pdr.kernel.ledger.models import LedgerHead

from .fingerprints import register_backup_fingerprint


def ledger_root_fingerprint(log: str):
    def fingerprint(cursor) -> str:
        cursor.execute(
            sql.SQL(
                "SELECT size, root_hash FROM {} WHERE log = %s ORDER BY size DESC LIMIT 1"
            ).format(sql.Identifier(LedgerHead._meta.db_table)),
            [log],
        )
        row = cursor.fetchone()
        size, root = (row[0], bytes(row[1])) if row else (0, EMPTY_ROOT)
        return f"size={size} root={root.hex()}"

    return fingerprint


def register() -> None:
    for log in LOGS:
        register_backup_fingerprint(f"ledger.{log}", ledger_root_fingerprint(log))
