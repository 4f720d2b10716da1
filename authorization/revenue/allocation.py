"""Splitting an amount of yuan among parties in proportion to their bases, to the cent.

The largest-remainder method (Hamilton's): each party gets the whole cents of its exact
quota (computed with fractions, never floats), then the cents left over go one each to the
parties with the largest remainders. Ties are broken by the larger basis, then by the order
in which the parties are given (the caller passes them in a stable order: the government
before the operator, agencies by id). So the shares always add up to the amount exactly, no
share differs from its quota by a cent or more, and the same inputs give the same cents.
See docs/decisions/0033-revenue-rounding.md.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from decimal import Decimal
from fractions import Fraction

CENT = Decimal("0.01")


class NoBasis(ValueError):
    """Every basis is zero: there is nothing to divide in proportion to."""


def to_cents(amount: Decimal) -> int:
    """Whole cents of a non-negative amount that has at most two decimal places."""
    if not isinstance(amount, Decimal):
        amount = Decimal(str(amount))
    if amount < 0:
        raise ValueError("amount must not be negative")
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError("amount has more than two decimal places")
    return int(cents)


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def allocate_cents(
    total: int, parties: Sequence[tuple[Hashable, Fraction | Decimal | int]]
) -> dict[Hashable, int]:
    """Divide `total` cents among `parties` ((key, basis) pairs, basis >= 0) in proportion
    to their bases. Raises NoBasis when every basis is zero (and there is something to
    divide)."""
    if total < 0:
        raise ValueError("total must not be negative")
    bases = [(key, Fraction(basis)) for key, basis in parties]
    if any(b < 0 for _k, b in bases):
        raise ValueError("a basis must not be negative")
    keys = [k for k, _b in bases]
    if len(set(keys)) != len(keys):
        raise ValueError("parties must be distinct")
    whole = sum(b for _k, b in bases)
    if whole == 0:
        if total == 0:
            return {k: 0 for k in keys}
        raise NoBasis
    quotas = [(k, total * b / whole, b, i) for i, (k, b) in enumerate(bases)]
    shares = {k: q.numerator // q.denominator for k, q, _b, _i in quotas}
    left = total - sum(shares.values())
    # Largest remainder first; then the larger basis; then the order given.
    order = sorted(quotas, key=lambda x: (-(x[1] - shares[x[0]]), -x[2], x[3]))
    for k, _q, _b, _i in order[:left]:
        shares[k] += 1
    return shares


def allocate(
    amount: Decimal, parties: Sequence[tuple[Hashable, Fraction | Decimal | int]]
) -> dict[Hashable, Decimal]:
    """`allocate_cents` in yuan: Decimal amounts with two places that add up to `amount`."""
    cents = allocate_cents(to_cents(amount), parties)
    return {k: from_cents(c) for k, c in cents.items()}
