"""Who confirmed a table's move to another storage zone (decision "zone-moves"); and the
zone roles' right to call the loader's value checks in `datastore` (is_date, is_timestamp,
is_bytea: the search for bad rows runs as the zone's role), USAGE and EXECUTE only, where the
roles exist (`manage.py db_roles` grants the same)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from psycopg import sql


def grant_value_checks(apps, schema_editor):
    from security.dbroles import role_name

    with schema_editor.connection.cursor() as cur:
        cur.execute(
            "SELECT p.oid::regprocedure::text FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'datastore' "
            "AND p.proname IN ('is_date', 'is_timestamp', 'is_bytea')"
        )
        functions = [r[0] for r in cur.fetchall()]
        for kind in ("zone_restricted", "zone_sensitive"):
            role = role_name(kind)
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if cur.fetchone() is None:
                continue
            cur.execute(sql.SQL("GRANT USAGE ON SCHEMA datastore TO {}").format(sql.Identifier(role)))
            for fn in functions:
                cur.execute(
                    sql.SQL("GRANT EXECUTE ON FUNCTION {} TO {}").format(
                        sql.SQL(fn), sql.Identifier(role)
                    )
                )


class Migration(migrations.Migration):

    dependencies = [
        ('aggregation', '0012_zone_schemas'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='datastoretable',
            name='zone_move_confirmed_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='move confirmed'),
        ),
        migrations.AddField(
            model_name='datastoretable',
            name='zone_move_confirmed_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='move confirmed by'),
        ),
        migrations.AddField(
            model_name='datastoretable',
            name='zone_move_to',
            field=models.CharField(blank=True, max_length=16, verbose_name='confirmed move to zone'),
        ),
        migrations.AddField(
            model_name='historicaldatastoretable',
            name='zone_move_confirmed_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='move confirmed'),
        ),
        migrations.AddField(
            model_name='historicaldatastoretable',
            name='zone_move_confirmed_by',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='move confirmed by'),
        ),
        migrations.AddField(
            model_name='historicaldatastoretable',
            name='zone_move_to',
            field=models.CharField(blank=True, max_length=16, verbose_name='confirmed move to zone'),
        ),
        migrations.RunPython(grant_value_checks, migrations.RunPython.noop),
    ]
