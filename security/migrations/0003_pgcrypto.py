"""pgcrypto for the keyed-hash masking method (`public.hmac()`, security/masking/core.py).
A trusted extension: the database owner may create it."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("security", "0002_default_grades")]

    operations = [
        migrations.RunSQL(
            "CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public",
            reverse_sql=migrations.RunSQL.noop,
        )
    ]
