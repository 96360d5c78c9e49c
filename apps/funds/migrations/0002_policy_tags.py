"""Seed the policy tags with Qingdao's 十五个攻势 (2019–2020). The list is data: edit it in the admin."""

from django.db import migrations

TAGS = [
    "海洋攻势",
    "高质量“双招双引”攻势",
    "交通基础设施建设攻势",
    "国际航运贸易金融创新中心建设攻势",
    "城市品质改善提升攻势",
    "国际时尚城建设攻势",
    "军民融合发展攻势",
    "乡村振兴攻势",
    "突破平度莱西攻势",
    "高端制造业+人工智能攻势",
    "国企改革攻势",
    "壮大民营经济攻势",
    "科技引领城建设攻势",
    "平安青岛建设攻势",
]


def forwards(apps, schema_editor):
    PolicyTag = apps.get_model("funds", "PolicyTag")
    for i, name in enumerate(TAGS, start=1):
        PolicyTag.objects.get_or_create(name=name, defaults={"sort_order": i})


class Migration(migrations.Migration):
    dependencies = [("funds", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
