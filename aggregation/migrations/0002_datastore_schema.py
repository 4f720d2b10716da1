"""The `datastore` schema that holds resources' tables, and the value checks the loader's
slow path uses (PostgreSQL 15 has no pg_input_is_valid)."""

from django.db import migrations

FUNCTIONS = r"""
CREATE SCHEMA IF NOT EXISTS datastore;

CREATE OR REPLACE FUNCTION datastore.is_date(v text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  IF v IS NULL THEN RETURN true; END IF;
  PERFORM v::date;
  RETURN true;
EXCEPTION WHEN others THEN
  RETURN false;
END $$;

CREATE OR REPLACE FUNCTION datastore.is_timestamp(v text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  IF v IS NULL THEN RETURN true; END IF;
  PERFORM v::timestamp;
  RETURN true;
EXCEPTION WHEN others THEN
  RETURN false;
END $$;

CREATE OR REPLACE FUNCTION datastore.is_bytea(v text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  IF v IS NULL THEN RETURN true; END IF;
  PERFORM v::bytea;
  RETURN true;
EXCEPTION WHEN others THEN
  RETURN false;
END $$;
"""

REVERSE = """
DROP FUNCTION IF EXISTS datastore.is_date(text);
DROP FUNCTION IF EXISTS datastore.is_timestamp(text);
DROP FUNCTION IF EXISTS datastore.is_bytea(text);
"""


class Migration(migrations.Migration):
    dependencies = [("aggregation", "0001_initial")]

    operations = [migrations.RunSQL(FUNCTIONS, REVERSE)]
