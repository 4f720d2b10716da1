"""The storage zones' schemas (security.zones): `datastore_restricted` and
`datastore_sensitive`, owned by the zone roles of this database where `manage.py db_roles`
made them (migrations run as the owner, a member of both), with the rights a zone role needs
beyond its own schema: temporary tables (incremental loads), and the code-list values that the
quality engine joins when it checks a zone table as the zone's role. The web and the worker may
look functions up in the schemas (USAGE), and have no right on the tables in them."""

from django.db import migrations
from psycopg import sql

ZONES = {"restricted": "datastore_restricted", "sensitive": "datastore_sensitive"}


def _exists(cur, role: str) -> bool:
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
    return cur.fetchone() is not None


def create_zone_schemas(apps, schema_editor):
    from security.dbroles import role_name

    connection = schema_editor.connection
    database = connection.settings_dict["NAME"]
    with connection.cursor() as cur:
        web, worker = role_name("web"), role_name("worker")
        for zone, schema in ZONES.items():
            role = role_name(f"zone_{zone}")
            if not _exists(cur, role):  # a database without its roles (set up by hand)
                cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
                continue
            cur.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(
                    sql.Identifier(schema), sql.Identifier(role)
                )
            )
            cur.execute(
                sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(sql.Identifier(schema))
            )
            for grantee in (web, worker):
                if _exists(cur, grantee):
                    cur.execute(
                        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
                            sql.Identifier(schema), sql.Identifier(grantee)
                        )
                    )
            cur.execute(
                sql.SQL("GRANT TEMPORARY ON DATABASE {} TO {}").format(
                    sql.Identifier(database), sql.Identifier(role)
                )
            )
            cur.execute(
                sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(sql.Identifier(role))
            )
            cur.execute(
                sql.SQL("GRANT SELECT ON TABLE public.catalog_codevalue TO {}").format(
                    sql.Identifier(role)
                )
            )


class Migration(migrations.Migration):
    dependencies = [
        ("aggregation", "0011_datastore_zones"),
        ("catalog", "0010_element_change_request_stored_data_impact"),
    ]
    operations = [migrations.RunPython(create_zone_schemas, migrations.RunPython.noop)]
