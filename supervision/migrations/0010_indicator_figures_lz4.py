# Decision 0036: the figures' arrays (a few KB each) are compressed with lz4 rather than the
# default pglz, which cost a run about a millisecond per indicator; where the server was built
# without lz4, the default stays.

from django.db import migrations

COLUMNS = ("agencies", "numerators", "denominators", "measures", "scores")


def _compression(method: str) -> str:
    alters = ", ".join(f"ALTER COLUMN {c} SET COMPRESSION {method}" for c in COLUMNS)
    return f"""
DO $$
BEGIN
    ALTER TABLE supervision_indicatorfigures {alters};
EXCEPTION WHEN feature_not_supported THEN
    NULL;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("supervision", "0009_agency_score_run_index"),
    ]

    operations = [
        migrations.RunSQL(_compression("lz4"), reverse_sql=_compression("default")),
    ]
