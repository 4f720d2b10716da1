"""Channel sign-offs become security assessments (security.assessments): each signed-off
channel gets a passed assessment dated at its sign-off, valid for
ASSESSMENT_MIGRATED_VALIDITY_DAYS from the upgrade, so that no live channel is suspended by
the upgrade. The next migration drops the sign-off fields."""

import datetime as dt

from django.conf import settings
from django.db import migrations
from django.utils import timezone


def signoffs_to_assessments(apps, schema_editor):
    from security.assessments.upgrade import assessments_from_signoffs

    Channel = apps.get_model("aggregation", "Channel")
    Assessment = apps.get_model("security", "Assessment")
    rows = [
        {
            "subject_id": c.pk,
            "title": f"{c.resource.code} · {c.name}",
            "signed_at": c.security_signoff_at,
            "signed_by_id": c.security_signoff_by_id,
            "note": c.security_signoff_note,
        }
        for c in Channel.objects.select_related("resource").filter(
            security_signoff_at__isnull=False, security_signoff_by__isnull=False
        )
    ]
    valid_until = timezone.localdate() + dt.timedelta(
        days=settings.ASSESSMENT_MIGRATED_VALIDITY_DAYS
    )
    assessments_from_signoffs(
        Assessment=Assessment, rows=rows, kind="channel", valid_until=valid_until
    )


class Migration(migrations.Migration):
    dependencies = [
        ("aggregation", "0008_batch_hold_and_resend"),
        ("security", "0006_assessments_incidents"),
    ]

    operations = [migrations.RunPython(signoffs_to_assessments, migrations.RunPython.noop)]
