"""Create or re-key the security administrator / security auditor accounts (三员分立).

The system administrator may not touch these two accounts, so they are provisioned at deployment:

    python manage.py provision_admin sec_admin --role security_admin --organization 370200-CZ-XX

The password is read from QDPERF_ADMIN_PASSWORD or asked for interactively; the policy applies.
"""

import getpass
import os

from django.contrib.auth import password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.accounts.models import User
from apps.accounts.roles import PROTECTED_ROLES, Role
from apps.accounts.services import validate_roles
from apps.core import audit
from apps.orgs.models import Organization


class Command(BaseCommand):
    help = "配置安全管理员或安全审计员账号（系统管理员无权维护这两类账号）。"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=sorted(PROTECTED_ROLES))
        parser.add_argument("--organization", required=True, help="机构编码，如 370200-CZ-XX")
        parser.add_argument("--real-name", default="")

    @transaction.atomic
    def handle(self, *args, username, role, organization, real_name, **options):
        org = Organization.objects.filter(code=organization).first()
        if org is None:
            raise CommandError(f"机构编码“{organization}”不存在。")
        password = os.environ.get("QDPERF_ADMIN_PASSWORD") or getpass.getpass("密码：")
        user = User.objects.filter(username=username).first() or User(username=username)
        user.organization, user.real_name = org, real_name or user.real_name or Role(role).label
        try:
            validate_roles(roles=[role], organization=org)
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from None
        created = user.pk is None
        user.set_password(password)
        user.save()
        user.groups.set([Group.objects.get_or_create(name=role)[0]])
        audit.record(
            audit.Kind.CREATE if created else audit.Kind.ROLE_CHANGE,
            obj=user,
            organization=org,
            actor_name="manage.py provision_admin",
            changes={"roles": {"from": None, "to": [role]}},
        )
        self.stdout.write(
            self.style.SUCCESS(f"{'已创建' if created else '已更新'}账号 {username}（{Role(role).label}）。")
        )
