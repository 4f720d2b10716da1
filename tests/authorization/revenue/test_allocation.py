"""The largest-remainder split (authorization/revenue/allocation.py): every level adds up to
the cent, no share is a cent or more away from its exact quota, ties are broken the same
way every time."""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

import pytest

from authorization.revenue.allocation import NoBasis, allocate, allocate_cents, to_cents


def test_one_cent_over_three_agencies_goes_to_the_first_on_a_tie():
    shares = allocate(Decimal("0.01"), [("a", 1), ("b", 1), ("c", 1)])
    assert shares == {"a": Decimal("0.01"), "b": Decimal("0.00"), "c": Decimal("0.00")}
    assert sum(shares.values()) == Decimal("0.01")


def test_one_cent_goes_to_the_larger_basis_before_the_order_given():
    shares = allocate(Decimal("0.01"), [("a", 1), ("b", 2), ("c", 1)])
    assert shares["b"] == Decimal("0.01")


def test_a_billion_yuan_over_thirteen_agencies_adds_up_exactly():
    parties = [(i, 1) for i in range(13)]
    shares = allocate(Decimal("1000000000"), parties)
    assert sum(shares.values()) == Decimal("1000000000.00")
    # 100,000,000,000 cents / 13 = 7,692,307,692 r 4: the first four get a cent more.
    assert [shares[i] for i in range(13)] == [Decimal("76923076.93")] * 4 + [
        Decimal("76923076.92")
    ] * 9


def test_a_billion_by_uneven_usage_of_thirteen_agencies():
    parties = [(i, 1000 + 37 * i * i) for i in range(13)]
    shares = allocate(Decimal("1000000000.00"), parties)
    assert sum(shares.values()) == Decimal("1000000000.00")
    whole = sum(b for _k, b in parties)
    for key, basis in parties:
        exact = Fraction(100_000_000_000 * basis, whole)
        assert abs(Fraction(to_cents(shares[key])) - exact) < 1


def test_zero_usage_cannot_be_divided_but_zero_amount_can():
    with pytest.raises(NoBasis):
        allocate(Decimal("10.00"), [("a", 0), ("b", 0)])
    assert allocate(Decimal("0"), [("a", 0), ("b", 0)]) == {
        "a": Decimal("0.00"),
        "b": Decimal("0.00"),
    }


def test_one_agency_takes_everything():
    assert allocate(Decimal("123.45"), [("only", 7)]) == {"only": Decimal("123.45")}


def test_weights_that_do_not_divide_evenly():
    shares = allocate(Decimal("100.00"), [("a", Decimal("1")), ("b", Decimal("1")), ("c", 1)])
    assert shares == {"a": Decimal("33.34"), "b": Decimal("33.33"), "c": Decimal("33.33")}
    shares = allocate(Decimal("10.00"), [("a", Decimal("0.3333")), ("b", Decimal("0.6667"))])
    assert shares == {"a": Decimal("3.33"), "b": Decimal("6.67")}


def test_a_government_and_operator_split_then_agencies_adds_up_at_every_level():
    total = Decimal("1286453.27")
    split = allocate(total, [("government", Decimal("0.3")), ("operator", Decimal("0.7"))])
    assert split["government"] + split["operator"] == total
    agencies = allocate(split["government"], [(1, 3), (2, 1), (3, 1), (4, 1)])
    assert sum(agencies.values()) == split["government"]


def test_amounts_with_more_than_two_decimals_or_negative_are_refused():
    with pytest.raises(ValueError):
        to_cents(Decimal("0.001"))
    with pytest.raises(ValueError):
        to_cents(Decimal("-1"))
    with pytest.raises(ValueError):
        allocate_cents(5, [("a", -1), ("b", 2)])
    with pytest.raises(ValueError):
        allocate_cents(5, [("a", 1), ("a", 2)])


@pytest.mark.parametrize("seed", range(40))
def test_random_splits_are_exact_fair_and_deterministic(seed):
    rng = random.Random(seed)
    n = rng.randint(1, 30)
    cents = rng.choice([0, 1, 2, rng.randint(0, 10**6), rng.randint(0, 10**15)])
    parties = [(k, rng.choice([0, 1, rng.randint(0, 10**9)])) for k in range(n)]
    if all(b == 0 for _k, b in parties):
        parties[0] = (0, 1)
    shares = allocate_cents(cents, parties)
    assert sum(shares.values()) == cents
    whole = sum(b for _k, b in parties)
    for key, basis in parties:
        exact = Fraction(cents * basis, whole)
        assert abs(shares[key] - exact) < 1
        if basis == 0:
            assert shares[key] == 0
    assert allocate_cents(cents, parties) == shares
