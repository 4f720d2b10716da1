"""Statements prepared once per database session (the ledger's append, the audit record)."""

from __future__ import annotations

import itertools

import pytest
from django.db import DataError, connection, transaction

from wuhan_pdr.kernel.prepared import execute_prepared

pytestmark = pytest.mark.django_db

_numbers = itertools.count()


def fresh_name() -> str:
    """Prepared statements outlive a test's rollback: each test takes names of its own."""
    return f"test_prepared_{next(_numbers)}_{id(connection.connection)}"


def prepared_here(name: str) -> bool:
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_prepared_statements WHERE name = %s", [name])
        return cur.fetchone()[0] == 1


def run(name, statement, types, params):
    with connection.cursor() as cur:
        execute_prepared(cur, name, statement, types, params)
        return cur.fetchall()


def test_the_first_call_prepares_and_every_call_is_one_query(django_assert_num_queries):
    name = fresh_name()
    statement = "SELECT $1 || '%' || $2, $2 * 2"  # a `%` is no client-side placeholder
    with django_assert_num_queries(1):
        assert run(name, statement, ("text", "integer"), ["a", 2]) == [("a%2", 4)]
    assert prepared_here(name)
    with django_assert_num_queries(1) as queries:
        assert run(name, statement, ("text", "integer"), ["b", 3]) == [("b%3", 6)]
    assert queries.captured_queries[0]["sql"].startswith(f"EXECUTE {name} (")


def test_a_prepared_statement_survives_a_rollback():
    name = fresh_name()
    with transaction.atomic():
        run(name, "SELECT $1 + 1", ("integer",), [1])
        transaction.set_rollback(True)
    assert run(name, "SELECT $1 + 1", ("integer",), [41]) == [(42,)]


def test_a_failed_first_call_is_checked_before_the_next():
    name = fresh_name()
    with pytest.raises(DataError), transaction.atomic():
        run(name, "SELECT 10 / $1", ("integer",), [0])  # prepared, then the EXECUTE fails
    assert run(name, "SELECT 10 / $1", ("integer",), [5]) == [(2,)]


def test_without_prepared_statements_the_statement_is_sent_whole(settings):
    settings.DATABASE_PREPARED_STATEMENTS = False
    name = fresh_name()
    assert run(name, "SELECT $2::text || $1, $1", ("integer", "text"), [7, "x"]) == [("x7", 7)]
    assert not prepared_here(name)


def test_names_and_parameter_counts_are_checked():
    with pytest.raises(ValueError), connection.cursor() as cur:
        execute_prepared(cur, "bad name; DROP", "SELECT $1", ("integer",), [1])
    with pytest.raises(ValueError), connection.cursor() as cur:
        execute_prepared(cur, fresh_name(), "SELECT $1", ("integer",), [1, 2])
