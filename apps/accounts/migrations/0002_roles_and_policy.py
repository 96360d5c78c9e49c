"""The fixed role groups and the default security policy row."""

from django.db import migrations

ROLE_CODES = [
    "finance_perf", "finance_sector", "dept_filler", "dept_approver", "district_finance", "npc_liaison",
    "auditor", "expert", "sysadmin", "security_admin", "audit_admin",
]


def create(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for code in ROLE_CODES:
        Group.objects.get_or_create(name=code)
    apps.get_model("accounts", "SecurityPolicy").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
