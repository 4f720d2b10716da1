"""Grade.may_operate (Art. 18): whether data of a grade may enter authorized operation. Of the
default scale, L1-L3 may (inside the operation's controlled environment, masked as the grade
requires); L4 敏感 may not. The security administrator may change it (recorded in history)."""

from django.db import migrations, models


def set_may_operate(apps, schema_editor):
    Grade = apps.get_model("security", "Grade")
    Grade.objects.filter(code__in=["L1", "L2", "L3"]).update(may_operate=True)
    Grade.objects.filter(code="L4").update(may_operate=False)


class Migration(migrations.Migration):
    dependencies = [("security", "0004_masking_rules")]

    operations = [
        migrations.AddField(
            model_name="grade",
            name="may_operate",
            field=models.BooleanField(
                default=False,
                help_text="Whether data of this grade may be brought into authorized operation.",
                verbose_name="may enter authorized operation",
            ),
        ),
        migrations.AddField(
            model_name="historicalgrade",
            name="may_operate",
            field=models.BooleanField(
                default=False,
                help_text="Whether data of this grade may be brought into authorized operation.",
                verbose_name="may enter authorized operation",
            ),
        ),
        migrations.RunPython(set_may_operate, migrations.RunPython.noop),
    ]
