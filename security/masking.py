"""The one masking function: every stored row shown to a person passes through here.

Today a column is masked when its catalog item carries a masking rule; the value keeps its
first and last character and the rest becomes asterisks (at most eight, so the length of a
long value is not told either). The security core (Ch. 8) will add rules per item and the
audit record; callers keep calling these two functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def mask_value(value) -> str | None:
    """`value` as it may be shown masked; None stays None."""
    if value is None:
        return None
    text = str(value)
    if len(text) <= 2:
        return "*" * len(text)
    return text[0] + "*" * min(len(text) - 2, 8) + text[-1]


def mask_row(names: Sequence[str], row: Iterable, masked: set[str] | frozenset[str]) -> list:
    """One stored row (values in the order of `names`) with the `masked` columns masked."""
    return [mask_value(v) if n in masked else v for n, v in zip(names, row, strict=False)]
