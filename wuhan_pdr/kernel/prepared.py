"""Statements run often enough that planning them costs more than running them: the ledger's
append and the audit log's record (one per request that reads stored data).

    with connection.cursor() as cur:
        execute_prepared(cur, "kernel_ledger_append", STATEMENT, TYPES, params)
        leaf_id = cur.fetchone()[0]

The statement is PREPAREd once per database session, under its name, and EXECUTEd with the
parameters after that, so PostgreSQL parses and plans it once instead of on every call (an
INSERT of four rows through CTEs: planning it took longer than the inserts). The first call of
a session sends `PREPARE ...; EXECUTE ...` as one query (one round trip, one query for
`assertNumQueries`), later ones `EXECUTE ...`. It goes through Django's own cursor, so query
logging, `execute_wrapper`s and the tests' query counts see it as any other statement.

Prepared statements belong to the session, not to a transaction (a rollback keeps them), and
psycopg never deallocates them here: Django opens its connections with `prepare_threshold`
None, so psycopg prepares nothing of its own and never sends `DEALLOCATE ALL`. Which names a
connection has prepared is kept per psycopg connection object: a new connection starts with
none. A pooler in transaction mode in front of PostgreSQL (none is deployed, see
docs/operations.md) would need its prepared-statement support turned on (PgBouncer >= 1.21:
`max_prepared_statements`) or `DATABASE_PREPARED_STATEMENTS = False` (then the statement
is sent whole each time).
"""

from __future__ import annotations

import functools
import re
import weakref
from collections.abc import Sequence

from django.conf import settings

# psycopg connection -> the names prepared in its session
_PREPARED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_PLACEHOLDER = re.compile(r"\$([0-9]+)")
_PREPARED_, _UNCERTAIN = "prepared", "uncertain"


def _unprepared(statement: str, types: Sequence[str], params: Sequence) -> tuple[str, list]:
    """The statement with `%s::type` placeholders and its parameters in their order."""
    ordered: list = []

    def sub(match: re.Match) -> str:
        number = int(match.group(1)) - 1
        ordered.append(params[number])
        return f"%s::{types[number]}"

    return _PLACEHOLDER.sub(sub, statement.replace("%", "%%")), ordered


@functools.lru_cache(maxsize=64)
def _execute_sql(name: str, count: int) -> str:
    return f"EXECUTE {name} ({', '.join(['%s'] * count)})"


def execute_prepared(
    cursor, name: str, statement: str, types: Sequence[str], params: Sequence
) -> None:
    """Execute `statement` (placeholders `$1 ... $n`, one type each in `types`) with `params`
    on `cursor` (a Django cursor) as the session's prepared statement `name`. The result is
    read from the cursor as after `execute`."""
    if len(types) != len(params):
        raise ValueError(f"{name}: {len(types)} parameter types for {len(params)} parameters")
    if not getattr(settings, "DATABASE_PREPARED_STATEMENTS", True):
        sql, ordered = _unprepared(statement, types, params)
        cursor.execute(sql, ordered)
        return
    if not _NAME.match(name):
        raise ValueError(f"not a statement name: {name!r}")
    raw = cursor.db.connection
    names = _PREPARED.get(raw)
    if names is None:
        names = _PREPARED[raw] = {}
    execute = _execute_sql(name, len(params))
    state = names.get(name)
    if state is _UNCERTAIN:
        # A first call failed: whether its PREPARE was done (it outlives the rollback) is
        # asked once.
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE name = %s", [name])
        state = names[name] = _PREPARED_ if cursor.fetchone()[0] else None
        if state is None:
            del names[name]
    if state is _PREPARED_:
        cursor.execute(execute, params)
        return
    # One round trip: the PREPARE (its text carries no client-side placeholder: `%` is
    # doubled) and the first EXECUTE, whose result is the cursor's next result set.
    prepare = f"PREPARE {name} ({', '.join(types)}) AS {statement}".replace("%", "%%")
    try:
        cursor.execute(f"{prepare}; {execute}", params)
    except Exception:
        names[name] = _UNCERTAIN
        raise
    names[name] = _PREPARED_
    cursor.nextset()
