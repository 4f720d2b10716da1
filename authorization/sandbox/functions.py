"""The sandbox's definer function, made beside each datastore table's read functions
(`security.zones.register_read_function_builder`): `<table>_aggregate(...)`.

The web role may execute it but never SELECT a zone table. It takes the names of columns as
text and checks each against the allow-list written into it when it was made (the table's
unmasked columns: a masked column is never grouped, filtered or summed); names reach the query
only through `format('%I')`, values only as parameters (`EXECUTE ... USING`), never
concatenated. It refuses to run without a statement timeout set by the caller (a function's own
`SET statement_timeout` would not bound the statement already running), caps the groups it
returns and the rows it aggregates, and clamps summed values into the bounds it is given.

It returns exact figures to the process that calls it; only `engine.py` calls it, and only
noisy, suppressed figures leave that process (see docs/decisions, "sandbox").
"""

from __future__ import annotations

from django.db import connection
from psycopg import sql

from security import zones

VERSION = 1
NUMERIC_TYPES = ("numeric", "bigint", "integer", "smallint", "double precision", "real")
MEASURES = ("count", "sum", "min", "max")


def aggregate_name(table: str) -> str:
    return f"{table}_aggregate"


def is_numeric(sql_type: str) -> bool:
    return sql_type.split("(")[0].strip() in NUMERIC_TYPES


ARGS = sql.SQL(
    "p_measure text, p_value text, p_groups text[], p_fcols text[], p_fops text[], "
    "p_fvals text[], p_lo numeric, p_hi numeric, p_max_groups integer, p_max_rows bigint"
)
RETURNS = sql.SQL("TABLE (g1 text, g2 text, g3 text, n bigint, m bigint, v numeric)")

# The body; {allowed}, {types}, {numeric} and {tbl} are literals made from the table's own
# description (never from user text).
BODY = """
DECLARE
  allowed text[] := {allowed};
  types text[] := {types};
  numeric_cols text[] := {numeric};
  sel text[] := ARRAY[]::text[];
  cond text := 'TRUE';
  val text := 'NULL::numeric';
  agg text := 'NULL::numeric';
  q text;
  i integer;
  pos integer;
  r record;
  groups integer := 0;
  total bigint := 0;
BEGIN
  IF coalesce(current_setting('statement_timeout', true), '0') IN ('0', '') THEN
    RAISE EXCEPTION 'an aggregate runs only under a statement timeout' USING ERRCODE = '42501';
  END IF;
  IF p_measure IS NULL OR NOT p_measure = ANY (ARRAY['count', 'sum', 'min', 'max']) THEN
    RAISE EXCEPTION 'unknown measure' USING ERRCODE = '22023';
  END IF;
  IF coalesce(cardinality(p_groups), 0) > 3 THEN
    RAISE EXCEPTION 'at most three groups' USING ERRCODE = '22023';
  END IF;
  IF coalesce(cardinality(p_fcols), 0) <> coalesce(cardinality(p_fops), 0)
     OR coalesce(cardinality(p_fcols), 0) <> coalesce(cardinality(p_fvals), 0) THEN
    RAISE EXCEPTION 'filters do not match' USING ERRCODE = '22023';
  END IF;
  IF p_measure <> 'count' THEN
    IF p_value IS NULL OR NOT p_value = ANY (numeric_cols) THEN
      RAISE EXCEPTION 'column not allowed' USING ERRCODE = '42501';
    END IF;
    IF p_lo IS NULL OR p_hi IS NULL OR p_lo > p_hi THEN
      RAISE EXCEPTION 'bounds required' USING ERRCODE = '22023';
    END IF;
    val := format('LEAST(GREATEST(t.%I::numeric, $2), $3)', p_value);
    agg := format('%s(%s)', p_measure, val);
  END IF;
  FOR i IN 1..3 LOOP
    IF i <= coalesce(cardinality(p_groups), 0) THEN
      IF p_groups[i] IS NULL OR NOT p_groups[i] = ANY (allowed) THEN
        RAISE EXCEPTION 'column not allowed' USING ERRCODE = '42501';
      END IF;
      sel := sel || format('t.%I::text', p_groups[i]);
    ELSE
      sel := sel || 'NULL::text'::text;
    END IF;
  END LOOP;
  FOR i IN 1..coalesce(cardinality(p_fcols), 0) LOOP
    pos := array_position(allowed, p_fcols[i]);
    IF pos IS NULL THEN
      RAISE EXCEPTION 'column not allowed' USING ERRCODE = '42501';
    END IF;
    IF p_fops[i] = 'eq' THEN
      cond := cond || format(' AND t.%I::text = $1[%s]', allowed[pos], i);
    ELSIF p_fops[i] = 'in' THEN
      cond := cond || format(
        ' AND t.%I::text IN (SELECT jsonb_array_elements_text(($1[%s])::jsonb))', allowed[pos], i);
    ELSIF p_fops[i] = 'set' THEN
      cond := cond || format(' AND t.%I IS NOT NULL', allowed[pos]);
    ELSIF p_fops[i] = 'ge' THEN
      cond := cond || format(' AND t.%I >= CAST($1[%s] AS %s)', allowed[pos], i, types[pos]);
    ELSIF p_fops[i] = 'le' THEN
      cond := cond || format(' AND t.%I <= CAST($1[%s] AS %s)', allowed[pos], i, types[pos]);
    ELSE
      RAISE EXCEPTION 'unknown filter' USING ERRCODE = '22023';
    END IF;
  END LOOP;
  q := format(
    'SELECT %s AS a1, %s AS a2, %s AS a3, count(*)::bigint AS an, count(%s)::bigint AS am, '
    '%s AS av FROM %s t WHERE %s GROUP BY 1, 2, 3 ORDER BY 1, 2, 3',
    sel[1], sel[2], sel[3], val, agg, {tbl}, cond);
  FOR r IN EXECUTE q USING p_fvals, p_lo, p_hi LOOP
    groups := groups + 1;
    total := total + r.an;
    IF groups > p_max_groups THEN
      RAISE EXCEPTION 'too many groups' USING ERRCODE = '54000';
    END IF;
    g1 := r.a1; g2 := r.a2; g3 := r.a3; n := r.an; m := r.am; v := r.av;
    RETURN NEXT;
  END LOOP;
  IF total > p_max_rows THEN
    RAISE EXCEPTION 'too many rows' USING ERRCODE = '54000';
  END IF;
  RETURN;
END
"""


def _array(values: list[str]) -> sql.Composable:
    if not values:
        return sql.SQL("ARRAY[]::text[]")
    return sql.SQL("ARRAY[{}]::text[]").format(sql.SQL(", ").join(map(sql.Literal, values)))


def create(cur, *, schema: str, table: str, columns, grantees: list[str]) -> None:
    """(Re)create `<table>_aggregate` in the table's schema (as the table's owner, inside the
    caller's transaction: `security.zones.read_functions_create`)."""
    open_ = [c for c in columns if not c.masked]
    tbl = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
    body = sql.SQL(BODY).format(
        allowed=_array([c.name for c in open_]),
        types=_array([c.type for c in open_]),
        numeric=_array([c.name for c in open_ if is_numeric(c.type)]),
        tbl=sql.Literal(tbl.as_string(cur.connection if hasattr(cur, "connection") else cur)),
    )
    zones.definer_function_sql(
        cur,
        schema=schema,
        name=aggregate_name(table),
        args=ARGS,
        returns=RETURNS,
        body=body,
        grantees=grantees,
    )


BUILDER = zones.ReadFunctionBuilder(
    key="sandbox", version=VERSION, names=lambda table: [aggregate_name(table)], create=create
)


def register() -> None:
    zones.register_read_function_builder(BUILDER)


def aggregate_call(
    *,
    schema: str,
    table: str,
    measure: str,
    value: str | None,
    groups: list[str],
    filters: list[tuple[str, str, str]],
    lo,
    hi,
    max_groups: int,
    max_rows: int,
    timeout_ms: int,
) -> list[tuple]:
    """Run `<table>_aggregate` under a statement timeout (set for this transaction only, the
    previous value put back): [(g1, g2, g3, rows, values, figure)] as the function returns
    them. Call inside a savepoint: database errors (refusals, timeout, caps) propagate."""
    fn = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(aggregate_name(table)))
    with connection.cursor() as cur:
        cur.execute("SELECT current_setting('statement_timeout')")
        before = cur.fetchone()[0]
        cur.execute("SELECT set_config('statement_timeout', %s, true)", [str(int(timeout_ms))])
        cur.execute(
            sql.SQL(
                "SELECT * FROM {}(%s, %s, %s::text[], %s::text[], %s::text[], %s::text[], "
                "%s::numeric, %s::numeric, %s, %s)"
            ).format(fn),
            [
                measure,
                value,
                groups,
                [f[0] for f in filters],
                [f[1] for f in filters],
                [f[2] for f in filters],
                lo,
                hi,
                max_groups,
                max_rows,
            ],
        )
        found = cur.fetchall()
        # On an error the caller's savepoint rolls back, and the setting with it.
        cur.execute("SELECT set_config('statement_timeout', %s, true)", [before])
        return found
