"""The stored keyed hash in `security.masking` (decision "stored-keyed-hash"): `masked_select`
reads a column's companion only under the key it was stored under, and the Python hasher
agrees with the SQL and the twin on every text."""

from __future__ import annotations

import pytest
from django.db import connection
from psycopg import sql

from security.masking import (
    HMAC,
    KeyedHasher,
    Mask,
    key_fingerprint,
    mask_value,
    masked_select,
    stored_hash_column,
)
from security.masking.core import key_fingerprint_sql

KEY = "stored-hash-test-key-" + "s" * 30
VALUES = ["420102195001010001", "张三", "", "a'b\\c", "é" * 70, None]


def test_the_python_hasher_is_the_twin_for_any_key():
    for key in (KEY, "k", "x" * 65, "密钥" * 40):
        hasher = KeyedHasher(key)
        for v in VALUES:
            assert hasher(v) == mask_value(v, Mask(HMAC), key=key)


def test_companion_names_are_never_data_columns_and_fit_postgresql():
    assert stored_hash_column("id_number") == "_hmac_id_number"
    long_a, long_b = "a" * 60 + "x", "a" * 60 + "y"
    names = {stored_hash_column(long_a), stored_hash_column(long_b)}
    assert len(names) == 2 and all(len(n) <= 63 and n.startswith("_") for n in names)


@pytest.mark.django_db
def test_masked_select_reads_the_companion_under_its_key_only():
    with connection.cursor() as cur:
        cur.execute(
            "SELECT %s = " + key_fingerprint_sql(sql.Literal(KEY)).as_string(cur.connection),
            [key_fingerprint(KEY)],
        )
        assert cur.fetchone()[0]
        cur.execute("CREATE TEMP TABLE people (id int, idno text, _hmac_idno text)")
        # A companion holding a marker, not the hash: which one is read shows in the output.
        cur.executemany(
            "INSERT INTO people VALUES (%s, %s, %s)",
            [(i, v, None if v is None else f"stored:{i}") for i, v in enumerate(VALUES)],
        )
        rules = {"idno": Mask(HMAC)}
        stored = {"idno": key_fingerprint(KEY)}

        def read(key: str) -> list:
            select = masked_select(
                ["id", "idno"], rules, hmac_key_sql=sql.Literal(key), stored=stored
            )
            cur.execute(sql.SQL("SELECT {} FROM people ORDER BY id").format(select))
            return [r[1] for r in cur.fetchall()]

        assert read(KEY) == [None if v is None else f"stored:{i}" for i, v in enumerate(VALUES)]
        other = "another-key-" + "o" * 30
        assert read(other) == [mask_value(v, Mask(HMAC), key=other) for v in VALUES]
        # Without `stored`, the hash is computed as before.
        select = masked_select(["id", "idno"], rules, hmac_key_sql=sql.Literal(KEY))
        cur.execute(sql.SQL("SELECT {} FROM people ORDER BY id").format(select))
        assert [r[1] for r in cur.fetchall()] == [
            mask_value(v, Mask(HMAC), key=KEY) for v in VALUES
        ]
