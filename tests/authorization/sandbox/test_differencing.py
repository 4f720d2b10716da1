"""The differencing attack (issue #14 item 6): two queries whose filters differ by one person
(ages 30-45 vs 30-44, where one person aged 45 exists) must not reveal that person's amount
beyond the noise. The attacker's estimate (sum A - sum B) is compared with the person's true
amount over a fixed number of repetitions; the bounds come from the noise scale of the
Laplace mechanism (each sum at epsilon/2, sensitivity max(|lo|, |hi|))."""

from __future__ import annotations

import math
import statistics

import pytest

from authorization.sandbox import engine, noise
from tests.authorization.sandbox.factories import make_world

REPETITIONS = 60
EPSILON = 0.5
LO, HI = 0.0, 5000.0
TARGET_AMOUNT = 4321.0


@pytest.mark.django_db
def test_two_filters_differing_by_one_person_do_not_reveal_the_persons_value():
    # Enough rows that the noisy count (scale 4 here) never drops the group under the minimum.
    rows = [(30, 1000.0 + i) for i in range(60)] + [(40, 2000.0 + i) for i in range(60)]
    rows.append((45, TARGET_AMOUNT))  # the one person told apart by the second filter
    world = make_world(rows, epsilon_total=REPETITIONS * EPSILON * 2 + 1)
    spec = {"measure": "sum", "value": "amount", "filters": []}

    def released_sum(hi_age: str) -> float:
        query = engine.query_run(
            session=world.session,
            resource=world.setup.resource,
            spec={**spec, "filters": [{"column": "age", "op": "range", "lo": "30", "hi": hi_age}]},
            epsilon=EPSILON,
            acting_user=world.requester,
        )
        return query.result["rows"][0][-1]

    errors = [released_sum("45") - released_sum("44") - TARGET_AMOUNT for _ in range(REPETITIONS)]

    # Each sum carries Laplace noise of scale b; their difference has standard deviation 2b.
    b = noise.sum_scale(EPSILON / 2, LO, HI)
    expected_sd = 2 * b
    sd = statistics.pstdev(errors)
    # The sample sd of 60 such differences lies within these bounds with overwhelming
    # probability (its relative error is about 1.3 / sqrt(60) ~ 17 %).
    assert 0.5 * expected_sd < sd < 2.0 * expected_sd, (sd, expected_sd)
    # The attacker pins the amount to within 10 % of the bounds' width only by luck: for a
    # difference of two Laplace variables, P(|error| < t) <= t / b; allow three times it
    # plus a margin for 60 draws.
    t = 0.1 * (HI - LO)
    close = sum(1 for e in errors if abs(e) < t) / REPETITIONS
    assert close <= min(1.0, 3 * t / b) + 3 / math.sqrt(REPETITIONS), close
    # Never the exact figure.
    assert all(abs(e) > 1e-6 for e in errors)
    world.session.refresh_from_db()
    assert world.session.epsilon_spent == pytest.approx(REPETITIONS * 2 * EPSILON)
