"""Default conflict-of-interest relations and appraisal items (editable in the admin afterwards)."""

from decimal import Decimal

from django.db import migrations

RELATIONS = ["任职或隶属关系", "近三年为其提供有偿服务", "亲属在该单位任职", "其他利害关系"]
CRITERIA = [
    ("评价方案质量", Decimal("20")),
    ("评价报告质量", Decimal("30")),
    ("按时完成情况", Decimal("20")),
    ("数据真实可靠", Decimal("20")),
    ("工作纪律与沟通配合", Decimal("10")),
]


def load(apps, schema_editor):
    ConflictRelation = apps.get_model("agencies", "ConflictRelation")
    AppraisalCriterion = apps.get_model("agencies", "AppraisalCriterion")
    for i, name in enumerate(RELATIONS):
        ConflictRelation.objects.get_or_create(name=name, defaults={"sort_order": i})
    for i, (name, points) in enumerate(CRITERIA):
        AppraisalCriterion.objects.get_or_create(name=name, defaults={"max_points": points, "sort_order": i})


class Migration(migrations.Migration):
    dependencies = [("agencies", "0002_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
