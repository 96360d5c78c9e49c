"""Load 市本级 and the 10 区市 from fixtures/regions.json (idempotent)."""

import json
from pathlib import Path

from django.conf import settings
from django.db import migrations


def load_regions(apps, schema_editor):
    Region = apps.get_model("orgs", "Region")
    rows = json.loads((Path(settings.BASE_DIR) / "fixtures" / "regions.json").read_text(encoding="utf-8"))
    for row in rows:
        Region.objects.update_or_create(code=row["code"], defaults=row)


class Migration(migrations.Migration):
    dependencies = [("orgs", "0001_initial")]
    operations = [migrations.RunPython(load_regions, migrations.RunPython.noop)]
