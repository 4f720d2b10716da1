"""Hubei province, Wuhan city and Wuhan's 13 districts (GB/T 2260), which every deployment
needs before its first organization can be registered. Other divisions come from the code
lists the bureau imports."""

from django.db import migrations

DIVISIONS = [
    ("420000", "湖北省", "province", None),
    ("420100", "武汉市", "city", "420000"),
    ("420102", "江岸区", "district", "420100"),
    ("420103", "江汉区", "district", "420100"),
    ("420104", "硚口区", "district", "420100"),
    ("420105", "汉阳区", "district", "420100"),
    ("420106", "武昌区", "district", "420100"),
    ("420107", "青山区", "district", "420100"),
    ("420111", "洪山区", "district", "420100"),
    ("420112", "东西湖区", "district", "420100"),
    ("420113", "汉南区", "district", "420100"),
    ("420114", "蔡甸区", "district", "420100"),
    ("420115", "江夏区", "district", "420100"),
    ("420116", "黄陂区", "district", "420100"),
    ("420117", "新洲区", "district", "420100"),
]


def add_divisions(apps, schema_editor):
    Division = apps.get_model("accounts", "Division")
    by_code = {}
    for code, name, level, parent in DIVISIONS:
        obj, _ = Division.objects.update_or_create(
            code=code, defaults={"name": name, "level": level, "parent": by_code.get(parent)}
        )
        by_code[code] = obj


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(add_divisions, migrations.RunPython.noop)]
