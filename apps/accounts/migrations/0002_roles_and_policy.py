"""The fixed role groups and the default security policy row."""

from django.db import migrations

from apps.accounts.roles import ensure_role_groups


def create(apps, schema_editor):
    ensure_role_groups(apps.get_model("auth", "Group"))
    apps.get_model("accounts", "SecurityPolicy").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
