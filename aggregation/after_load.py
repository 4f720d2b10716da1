"""What other chapters do after a batch has loaded (issue #14: open-data files are rebuilt
after each successful load), so that aggregation imports none of them.

`register_after_load(fn)`: `fn(batch=batch)` is called inside the successful batch's
transaction, after its rows and counts are saved; it should only record follow-up work
(`kernel.jobs.job_enqueue`, sent when the load commits), never do long work itself.
"""

from __future__ import annotations

from collections.abc import Callable

_HOOKS: dict[str, Callable[..., None]] = {}


def register_after_load(name: str, fn: Callable[..., None]) -> None:
    _HOOKS[name] = fn


def after_load(*, batch) -> None:
    for name in sorted(_HOOKS):
        _HOOKS[name](batch=batch)
