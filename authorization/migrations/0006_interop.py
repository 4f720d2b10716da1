"""The stable dataset UUIDs of authorization.interop (issue #18), given to every existing
resource."""

import uuid

import django.db.models.deletion
from django.db import migrations, models

NAMESPACE = uuid.UUID("6f0b5a8e-3c1d-5b7a-9e2f-4a1c8d7e2b90")


def backfill(apps, schema_editor):
    Resource = apps.get_model("catalog", "Resource")
    DatasetIdentity = apps.get_model("authorization", "DatasetIdentity")
    batch = []
    for pk in Resource.objects.values_list("pk", flat=True).iterator(chunk_size=5000):
        batch.append(DatasetIdentity(resource_id=pk, uuid=uuid.uuid5(NAMESPACE, f"resource/{pk}")))
        if len(batch) >= 5000:
            DatasetIdentity.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    DatasetIdentity.objects.bulk_create(batch, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("authorization", "0005_revenue_pilots"),
        ("catalog", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="DatasetIdentity",
            fields=[
                (
                    "resource",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="dataset_identity",
                        serialize=False,
                        to="catalog.resource",
                        verbose_name="resource",
                    ),
                ),
                ("uuid", models.UUIDField(unique=True, verbose_name="dataset UUID")),
            ],
            options={
                "verbose_name": "dataset identity",
                "verbose_name_plural": "dataset identities",
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
