"""The default grade scale (domain.md, "Grades"): L1 不敏感 .. L4 敏感. Security
administrators may change what each grade allows; that change is recorded in its history."""

from django.db import migrations

GRADES = [
    # code, name, rank, share uncond., open uncond., open cond., masking, zone, description
    ("L1", "不敏感", 1, True, True, True, False, "general", "可无条件开放的一般数据。"),
    ("L2", "低敏感", 2, True, False, True, False, "general", "经审批或脱敏后有条件开放。"),
    ("L3", "较敏感", 3, False, False, True, True, "restricted", "仅在受控区域内、脱敏后有条件开放。"),
    ("L4", "敏感", 4, False, False, False, True, "sensitive", "不予开放,仅有条件共享。"),
]


def add_grades(apps, schema_editor):
    Grade = apps.get_model("security", "Grade")
    for code, name, rank, share_u, open_u, open_c, masking, zone, desc in GRADES:
        Grade.objects.update_or_create(
            code=code,
            defaults=dict(
                name=name,
                rank=rank,
                may_share_unconditionally=share_u,
                may_open_unconditionally=open_u,
                may_open_conditionally=open_c,
                masking_required=masking,
                storage_zone=zone,
                description=desc,
            ),
        )


class Migration(migrations.Migration):
    dependencies = [("security", "0001_initial")]
    operations = [migrations.RunPython(add_grades, migrations.RunPython.noop)]
