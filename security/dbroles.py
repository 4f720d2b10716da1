"""Least-privilege PostgreSQL roles of one database (issue #13, item 1; decision "db-roles").

Roles are server-wide, so every name carries the database's name: the dev, test and bench
databases (and a second `make run`) each have their own five roles.

| kind | login | what it may do |
|---|---|---|
| `owner` | yes | owns the database, schema `public`, every app table; runs `migrate`, `seed_demo`, `collectstatic` |
| `web` | yes | DML on the app's tables and sequences, SELECT on the `datastore` tables; no DDL anywhere |
| `worker` | yes, NOINHERIT | the web's rights, + CREATE in `datastore` (it creates, swaps and drops the resources' tables, which it owns) and temporary tables; member of both zone roles, but must `SET LOCAL ROLE` to use them |
| `zone_restricted`, `zone_sensitive` | no | own the storage zones' schemas (helper "zones") |

`roles_ensure` creates or updates them (idempotent); `manage.py db_roles` runs it over an
administrator's connection (`DATABASE_ADMIN_URL`). Code that must act as a role inside a
transaction uses `acting_as(kind)`: `SET LOCAL ROLE`, put back when the block ends.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
from collections.abc import Iterator

from django.db import connections, transaction
from psycopg import sql

logger = logging.getLogger(__name__)

OWNER = "owner"
WEB = "web"
WORKER = "worker"
ZONE_RESTRICTED = "zone_restricted"
ZONE_SENSITIVE = "zone_sensitive"
KINDS = (OWNER, WEB, WORKER, ZONE_RESTRICTED, ZONE_SENSITIVE)
ZONE_KINDS = (ZONE_RESTRICTED, ZONE_SENSITIVE)
# Kinds a process may connect as (settings: DATABASE_ROLE).
PROCESS_KINDS = (OWNER, WEB, WORKER)
# The schema of the resources' tables (aggregation/datastore.py; kept here as a name only:
# security imports no chapter app).
DATASTORE_SCHEMA = "datastore"

MAX_IDENTIFIER = 63  # PostgreSQL's NAMEDATALEN - 1
_LONGEST_SUFFIX = max(len(f"_{k}") for k in KINDS)


def role_prefix(database: str) -> str:
    """The database's name made a safe role-name prefix: lowercase letters, digits and '_',
    starting with a letter. A name that had to be changed (or cut to fit 63 characters with
    the longest suffix) gets a hash of the original, so two databases never share roles
    ("pdr-a" and "pdr_a", "Pdr" and "pdr")."""
    base = re.sub(r"[^a-z0-9_]", "_", database.lower()).strip("_") or "db"
    if not base[0].isalpha():
        base = f"db_{base}"
    room = MAX_IDENTIFIER - _LONGEST_SUFFIX
    if base != database or len(base) > room:
        digest = hashlib.sha256(database.encode()).hexdigest()[:8]
        base = f"{base[: room - 9]}_{digest}"
    return base


def role_name(kind: str, *, database: str | None = None, using: str = "default") -> str:
    """The role of `kind` (owner, web, worker, zone_restricted, zone_sensitive) for
    `database` (default: the database of connection `using`, the test database in tests)."""
    if kind not in KINDS:
        raise ValueError(f"unknown database role kind {kind!r}; one of {', '.join(KINDS)}")
    if database is None:
        database = connections[using].settings_dict["NAME"]
    return f"{role_prefix(database)}_{kind}"


def _current_role(cursor) -> str:
    cursor.execute("SELECT current_user")
    return cursor.fetchone()[0]


def role_available(kind: str, *, using: str = "default") -> bool:
    """Whether the role in force may become the role of `kind`: it exists and the current
    role is a member of it (or a superuser). PostgreSQL itself asks this of the session's
    user; asking it of the current role keeps a block run under `SET LOCAL ROLE <web>`
    (the tests' way to act as the web) from taking the worker's role."""
    with connections[using].cursor() as cur:
        cur.execute(
            "SELECT pg_has_role(current_user, oid, 'MEMBER') FROM pg_roles WHERE rolname = %s",
            [role_name(kind, using=using)],
        )
        row = cur.fetchone()
    return bool(row and row[0])


@contextlib.contextmanager
def acting_as(kind: str, *, using: str = "default", if_available: bool = False) -> Iterator[str]:
    """Run the block as the role of `kind`: `SET LOCAL ROLE` inside a transaction (a savepoint
    when one is open already). The role in force before is put back when the block ends; if
    the block raises, rolling the transaction or savepoint back undoes the SET as well.

    `if_available=True`: where the current role may not become it (the roles were never
    created, as in a database set up by hand, or the role in force is the web's), run the
    block as the current role. Yields the name of the role the block runs as."""
    connection = connections[using]
    name = role_name(kind, using=using)
    with transaction.atomic(using=using):
        with connection.cursor() as cur:
            before = _current_role(cur)
        switch = name != before and not (if_available and not role_available(kind, using=using))
        if not switch:
            yield before
            return
        with connection.cursor() as cur:
            cur.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(name)))
        yield name
        with connection.cursor() as cur:
            cur.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(before)))


# --- creating the roles ---------------------------------------------------------------------


def _ident(name: str) -> sql.Identifier:
    return sql.Identifier(name)


def _ensure_role(cur, name: str, *, login: bool, inherit: bool, password: str | None) -> bool:
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
    exists = cur.fetchone() is not None
    options = sql.SQL(" ").join(
        sql.SQL(o)
        for o in (
            "LOGIN" if login else "NOLOGIN",
            "INHERIT" if inherit else "NOINHERIT",
            "NOSUPERUSER",
            "NOCREATEDB",
            "NOCREATEROLE",
            "NOREPLICATION",
            "NOBYPASSRLS",
        )
    )
    verb = "ALTER" if exists else "CREATE"
    cur.execute(sql.SQL(verb + " ROLE {} {}").format(_ident(name), options))
    if password:
        cur.execute(
            sql.SQL("ALTER ROLE {} PASSWORD {}").format(_ident(name), sql.Literal(password))
        )
    return not exists


def _adopt_objects(cur, *, schema: str, owner: str, table_owner: str, keep: set[str]) -> int:
    """Give every object in `schema` that belongs to none of `keep` to `owner` (tables,
    views and sequences not owned by a table, and functions: to `table_owner`, which is the
    worker in `datastore`, where the tables' generated read functions must stay the worker's
    for it to remake them). Objects of an extension and sequences that follow their table are
    skipped (they move with it)."""
    adopted = 0
    cur.execute(
        """
        SELECT c.relkind, c.relname, pg_get_userbyid(c.relowner)
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                           AND d.objid = c.oid AND d.deptype IN ('e', 'a', 'i'))
        """,
        [schema],
    )
    verbs = {
        "r": "TABLE",
        "p": "TABLE",
        "v": "VIEW",
        "m": "MATERIALIZED VIEW",
        "S": "SEQUENCE",
        "f": "FOREIGN TABLE",
    }
    for relkind, relname, current in cur.fetchall():
        if current in keep or current == table_owner:
            continue
        cur.execute(
            sql.SQL("ALTER " + verbs[relkind] + " {} OWNER TO {}").format(
                sql.Identifier(schema, relname), _ident(table_owner)
            )
        )
        adopted += 1
    cur.execute(
        """
        SELECT p.oid::regprocedure::text, p.prokind, pg_get_userbyid(p.proowner)
          FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = %s
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                           AND d.objid = p.oid AND d.deptype = 'e')
        """,
        [schema],
    )
    for signature, prokind, current in cur.fetchall():
        if current in keep or current == table_owner:
            continue
        verb = {"a": "AGGREGATE", "p": "PROCEDURE"}.get(prokind, "FUNCTION")
        # regprocedure's text is already quoted and schema-qualified where needed.
        cur.execute(
            sql.SQL("ALTER " + verb + " " + signature + " OWNER TO {}").format(_ident(table_owner))
        )
        adopted += 1
    cur.execute(
        """
        SELECT t.typname, pg_get_userbyid(t.typowner)
          FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
         WHERE n.nspname = %s AND t.typtype IN ('d', 'e', 'r', 'm')
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
                           AND d.objid = t.oid AND d.deptype IN ('e', 'i'))
        """,
        [schema],
    )
    for typname, current in cur.fetchall():
        if current in keep or current == owner:
            continue
        cur.execute(
            sql.SQL("ALTER TYPE {} OWNER TO {}").format(
                sql.Identifier(schema, typname), _ident(owner)
            )
        )
        adopted += 1
    return adopted


def roles_create(cursor, *, database: str, passwords: dict[str, str] | None = None) -> list[str]:
    """Create or update the five roles of `database` and their memberships: the server-wide
    half of `roles_ensure`, which needs no connection to `database` itself (the test setup
    runs it before the test database is made, so that migrations may name the zone roles).
    Returns the names of the roles it created."""
    passwords = passwords or {}
    names = {kind: role_name(kind, database=database) for kind in KINDS}
    owner, web, worker = names[OWNER], names[WEB], names[WORKER]
    x = sql.SQL
    created = []
    for kind, name in names.items():
        if _ensure_role(
            cursor,
            name,
            login=kind in PROCESS_KINDS,
            # The worker must SET ROLE to a zone role to touch zone data.
            inherit=kind != WORKER,
            password=passwords.get(kind),
        ):
            created.append(name)
    # The worker may become a zone role (SET ROLE); the owner too, so that migrations can
    # create the zones' schemas and objects in their name. The web may not.
    for zone in (names[k] for k in ZONE_KINDS):
        cursor.execute(x("GRANT {} TO {}").format(_ident(zone), _ident(worker)))
        cursor.execute(x("GRANT {} TO {}").format(_ident(zone), _ident(owner)))
        cursor.execute(x("REVOKE {} FROM {}").format(_ident(zone), _ident(web)))
    # So that a connection as the owner (seed_demo, a shell) can create and replace the
    # datastore's tables in the worker's name: the worker owns them all.
    cursor.execute(x("GRANT {} TO {}").format(_ident(worker), _ident(owner)))
    return created


def roles_ensure(cursor, *, database: str, passwords: dict[str, str] | None = None) -> dict:
    """Create or bring up to date the roles of `database` and their rights, over `cursor`, a
    connection to `database` as an administrator (a superuser, or a role with CREATEROLE
    that may grant the roles and own the database). Idempotent; returns what it did.

    `passwords` maps a kind (owner, web, worker) to the password to set; kinds not named
    keep theirs (trust authentication needs none)."""
    names = {kind: role_name(kind, database=database) for kind in KINDS}
    owner, web, worker = names[OWNER], names[WEB], names[WORKER]
    zones = [names[k] for k in ZONE_KINDS]
    x = sql.SQL
    done: dict = {"created": roles_create(cursor, database=database, passwords=passwords)}
    done["adopted"] = 0

    db = _ident(database)
    cursor.execute(x("ALTER DATABASE {} OWNER TO {}").format(db, _ident(owner)))
    cursor.execute(x("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(db))
    cursor.execute(
        x("GRANT CONNECT ON DATABASE {} TO {}, {}").format(db, _ident(web), _ident(worker))
    )
    cursor.execute(x("GRANT TEMPORARY ON DATABASE {} TO {}").format(db, _ident(worker)))
    cursor.execute(x("REVOKE TEMPORARY, CREATE ON DATABASE {} FROM {}").format(db, _ident(web)))

    # Schema public: the owner's; web and worker use it, neither creates in it.
    cursor.execute(x("ALTER SCHEMA public OWNER TO {}").format(_ident(owner)))
    cursor.execute(x("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
    cursor.execute(x("GRANT USAGE ON SCHEMA public TO {}, {}").format(_ident(web), _ident(worker)))
    # Schema datastore: the owner's (its migration creates it); the worker creates the
    # resources' tables in it and owns them; the web reads them.
    cursor.execute(
        x("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(
            _ident(DATASTORE_SCHEMA), _ident(owner)
        )
    )
    cursor.execute(x("ALTER SCHEMA {} OWNER TO {}").format(_ident(DATASTORE_SCHEMA), _ident(owner)))
    cursor.execute(x("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(_ident(DATASTORE_SCHEMA)))
    cursor.execute(
        x("GRANT USAGE, CREATE ON SCHEMA {} TO {}").format(_ident(DATASTORE_SCHEMA), _ident(worker))
    )
    cursor.execute(
        x("GRANT USAGE ON SCHEMA {} TO {}").format(_ident(DATASTORE_SCHEMA), _ident(web))
    )
    cursor.execute(
        x("REVOKE CREATE ON SCHEMA {} FROM {}").format(_ident(DATASTORE_SCHEMA), _ident(web))
    )
    # The zone roles call the loader's value checks (`datastore.is_date`, `is_timestamp`,
    # `is_bytea`: the set-based search for bad rows runs as the zone's role): USAGE to find
    # them, EXECUTE on them only; no right on the general zone's tables or read functions.
    for zone in zones:
        cursor.execute(
            x("GRANT USAGE ON SCHEMA {} TO {}").format(_ident(DATASTORE_SCHEMA), _ident(zone))
        )
    cursor.execute(
        """
        SELECT p.oid::regprocedure::text FROM pg_proc p
          JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = %s AND p.proname IN ('is_date', 'is_timestamp', 'is_bytea')
        """,
        [DATASTORE_SCHEMA],
    )
    for (signature,) in cursor.fetchall():
        for zone in zones:
            cursor.execute(
                x("GRANT EXECUTE ON FUNCTION {} TO {}").format(x(signature), _ident(zone))
            )

    # Every other schema of the database that no zone role owns (a demo source schema, say):
    # the owner's, as are the objects in it.
    cursor.execute(
        """
        SELECT nspname, pg_get_userbyid(nspowner) FROM pg_namespace
         WHERE nspname NOT LIKE 'pg\\_%%' AND nspname <> 'information_schema'
        """
    )
    schemas = cursor.fetchall()
    keep = set(zones)
    for schema, schema_owner in schemas:
        if schema_owner in keep:
            continue
        if schema_owner != owner:
            cursor.execute(x("ALTER SCHEMA {} OWNER TO {}").format(_ident(schema), _ident(owner)))
        done["adopted"] += _adopt_objects(
            cursor,
            schema=schema,
            owner=owner,
            table_owner=worker if schema == DATASTORE_SCHEMA else owner,
            keep=keep,
        )

    # Rights on what exists now ...
    for role in (web, worker):
        cursor.execute(
            x("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(
                _ident(role)
            )
        )
        cursor.execute(
            x("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {}").format(
                _ident(role)
            )
        )
        cursor.execute(
            x("GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {} TO {}").format(
                _ident(DATASTORE_SCHEMA), _ident(role)
            )
        )
    cursor.execute(
        x("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(
            _ident(DATASTORE_SCHEMA), _ident(web)
        )
    )
    # ... and on what the owner (migrations) and the worker (loads) create later.
    for role in (web, worker):
        cursor.execute(
            x(
                "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public "
                "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}"
            ).format(_ident(owner), _ident(role))
        )
        cursor.execute(
            x(
                "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public "
                "GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {}"
            ).format(_ident(owner), _ident(role))
        )
    cursor.execute(
        x("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT SELECT ON TABLES TO {}").format(
            _ident(worker), _ident(DATASTORE_SCHEMA), _ident(web)
        )
    )
    cursor.execute(
        x("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT SELECT ON TABLES TO {}").format(
            _ident(owner), _ident(DATASTORE_SCHEMA), _ident(web)
        )
    )
    done["roles"] = names
    return done
