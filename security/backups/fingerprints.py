"""Fingerprints a backup carries beside its row counts, computed in the dump's own snapshot and
again after a restore drill (for example the ledger's roots: per log, its size and root hash).

`security` imports no chapter; whoever owns the data registers a function here from its
AppConfig.ready(). The function gets a psycopg cursor (of the snapshot transaction, or of the
restored scratch database) and returns a short text; the drill compares the two texts.
"""

from __future__ import annotations

from collections.abc import Callable

Fingerprint = Callable[[object], str]
_FINGERPRINTS: dict[str, Fingerprint] = {}


def register_backup_fingerprint(name: str, fn: Fingerprint) -> None:
    """Declare `fn(cursor) -> str`, computed for every backup and compared after restore."""
    _FINGERPRINTS[name] = fn


def registered_fingerprints() -> dict[str, Fingerprint]:
    return dict(sorted(_FINGERPRINTS.items()))


def fingerprints_compute(cursor) -> dict[str, str]:
    """Every registered fingerprint over `cursor`; a failure is recorded, not raised, so that
    it shows as a difference in the drill rather than hiding the other results."""
    out = {}
    for name, fn in registered_fingerprints().items():
        try:
            out[name] = str(fn(cursor))
        except Exception as exc:  # a fingerprint of one part must not stop the backup
            out[name] = f"error: {type(exc).__name__}: {exc}"[:500]
    return out
