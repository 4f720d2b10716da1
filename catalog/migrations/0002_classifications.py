"""The base and theme classification trees of the national catalog compilation guide, as
codes the resource code starts with (e.g. 101/000001). Department classification follows the
provider and needs no node."""

from django.db import migrations

TREES = [
    ("1", "基础类", "base", None),
    ("101", "人口", "base", "1"),
    ("102", "法人单位", "base", "1"),
    ("103", "自然资源和空间地理", "base", "1"),
    ("104", "社会信用", "base", "1"),
    ("105", "电子证照", "base", "1"),
    ("2", "主题类", "theme", None),
    ("201", "公共服务", "theme", "2"),
    ("202", "健康保障", "theme", "2"),
    ("203", "社会保障", "theme", "2"),
    ("204", "教育文化", "theme", "2"),
    ("205", "交通出行", "theme", "2"),
    ("206", "生态环境", "theme", "2"),
    ("207", "城乡建设", "theme", "2"),
    ("208", "市场监管", "theme", "2"),
    ("209", "安全生产", "theme", "2"),
    ("210", "财税金融", "theme", "2"),
    ("211", "民政服务", "theme", "2"),
    ("212", "文化旅游", "theme", "2"),
]


def add(apps, schema_editor):
    Classification = apps.get_model("catalog", "Classification")
    made = {}
    for code, name, tree, parent in TREES:
        obj, _ = Classification.objects.update_or_create(
            code=code, defaults={"name": name, "tree": tree, "parent": made.get(parent)}
        )
        made[code] = obj


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
