"""Load 市本级 and the 10 区市 from fixtures/regions.json (idempotent)."""

from django.db import migrations

from apps.orgs.reference import load_regions


def forwards(apps, schema_editor):
    load_regions(apps.get_model("orgs", "Region"))


class Migration(migrations.Migration):
    dependencies = [("orgs", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
