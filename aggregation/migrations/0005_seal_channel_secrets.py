"""Seal the credentials of channels saved before sealing existed (wuhan_pdr/kernel/sealing.py)."""

from django.db import migrations


def seal_existing(apps, schema_editor):
    from wuhan_pdr.kernel.sealing import is_sealed, seal

    Channel = apps.get_model("aggregation", "Channel")
    for channel in Channel.objects.exclude(secret="").only("pk", "secret"):
        if not is_sealed(channel.secret):
            Channel.objects.filter(pk=channel.pk).update(secret=seal(channel.secret))


class Migration(migrations.Migration):
    dependencies = [("aggregation", "0004_labels")]

    operations = [migrations.RunPython(seal_existing, migrations.RunPython.noop)]
