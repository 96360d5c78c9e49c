"""Load the indicator library from fixtures/indicators.json (idempotent, by code)."""

from django.db import migrations

from apps.indicators.reference import load_indicators


def forwards(apps, schema_editor):
    load_indicators(apps.get_model("indicators", "LibraryIndicator"))


class Migration(migrations.Migration):
    dependencies = [("indicators", "0002_proposer_organization")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
