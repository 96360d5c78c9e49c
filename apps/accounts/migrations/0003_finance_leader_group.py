from django.db import migrations


def create_groups(apps, schema_editor):
    from apps.accounts.roles import ensure_role_groups

    ensure_role_groups(apps.get_model("auth", "Group"))  # adds 财政局领导 (finance_leader)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_roles_and_policy")]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
