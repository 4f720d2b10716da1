"""The free-text masking rule of items gives way to the rule mapped from it (0011); in a
migration of its own, since PostgreSQL will not alter a table with pending trigger events."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("catalog", "0011_masking_rules")]

    operations = [
        migrations.RemoveField(model_name="dataitem", name="masking_rule"),
        migrations.RenameField(
            model_name="dataitem", old_name="masking_rule_ref", new_name="masking_rule"
        ),
    ]
