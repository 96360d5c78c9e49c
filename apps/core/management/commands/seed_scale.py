"""A large deployment in bulk (for benchmarks): organisations, users, library indicators, funds and targets.

Default: 11 regions × 100 departments × 10 units ≈ 11,000 organisations and ≈ 25,000 users
(per region a finance bureau with its performance officer; per department a filler and an
approver; per unit two fillers). Rows are written with ``bulk_create`` in batches; every password
is the same pre-computed hash, so hashing is done once. Scale rows carry codes starting with
``SC`` and are created only once: a second run reports them and changes nothing.
Then ``--indicators`` extra library indicators and ``--funds`` special funds per region and year
(2025–2027), each with a target of ≈8 indicator rows (apps/targets/scale.py). Later issues extend
this command with reports.
"""

import time

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.evaluations.scale import seed_scale_self_evaluations
from apps.indicators.scale import seed_scale_indicators
from apps.monitoring.scale import seed_scale_reports
from apps.orgs.models import Organization, Region
from apps.reminders.scale import scale_reminders
from apps.results.scale_disclosure import seed_scale_disclosures
from apps.results.scale_linkage import seed_linkage_scale
from apps.results.scale_npc import seed_scale_npc
from apps.results.scale_rectification import seed_scale_rectifications
from apps.supervision.scale_assessment import seed_scale_assessments
from apps.targets.scale import seed_scale_funds

K = Organization.Kind
BATCH = 2000
DEPARTMENT_NAMES = [
    "教育局", "卫生健康委", "交通运输局", "农业农村局", "科技局", "民政局", "人社局", "住建局", "生态环境局",
    "文旅局", "海洋发展局", "工信局", "商务局", "水务局", "园林局", "城管局", "应急局", "市场监管局",
    "统计局", "医保局",
]  # fmt: skip


def analyze(*tables: str) -> None:
    """Fresh planner statistics after a bulk load (PostgreSQL would otherwise guess row counts)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(tables)}")


class Command(BaseCommand):
    help = "批量生成大规模组织与账号数据（用于性能测试）。"

    def add_arguments(self, parser):
        parser.add_argument("--departments", type=int, default=100, help="每个区域的部门数（默认 100）")
        parser.add_argument("--units", type=int, default=10, help="每个部门的单位数（默认 10）")
        parser.add_argument("--regions", type=int, default=11, help="使用的区域数（默认 11：市本级 + 10 区市）")
        parser.add_argument("--indicators", type=int, default=10000, help="额外的库指标数（默认 10000，0 表示不生成）")
        parser.add_argument(
            "--funds",
            type=int,
            default=3000,
            help="每个区域每年的专项资金数（默认 3000，2025—2027 三年；0 表示不生成）",
        )

    def handle(self, *args, departments: int, units: int, regions: int, indicators: int, funds: int, **options):
        started = time.perf_counter()
        if Organization.objects.filter(code__startswith="SC").exists():
            self.stdout.write("规模机构与账号已存在，未做改动。")
        else:
            with transaction.atomic():
                orgs, users = self.seed(list(Region.objects.all()[:regions]), departments, units)
            analyze("orgs_organization", "accounts_user", "accounts_user_groups")
            self.stdout.write(f"已生成 {orgs} 个机构、{users} 个账号。")
        if indicators:
            seed_scale_indicators(indicators)
        if funds:
            seed_scale_funds(funds_per_region=funds, stdout=self.stdout)
            self.stdout.write(f"监控任务：新建 {seed_scale_reports()} 份监控报告。")
            seed_scale_self_evaluations(stdout=self.stdout)
            # 结果应用: completed key evaluations and department targets (NPC workbook), rectification
            # items, budget decisions for the arranged funds, public disclosures.
            seed_scale_npc(stdout=self.stdout)
            seed_scale_rectifications(stdout=self.stdout)
            made = seed_linkage_scale(log=lambda message: self.stdout.write(str(message)))
            self.stdout.write(f"预算挂钩：新建 {made} 条预算安排记录。")
            seed_scale_disclosures(stdout=self.stdout)
            seed_scale_assessments(stdout=self.stdout)
        # Reminders: addresses and channel choices for the scale users, calendars where missing.
        scale_reminders(stdout=self.stdout)
        elapsed = time.perf_counter() - started
        self.stdout.write(self.style.SUCCESS(f"规模数据就绪，用时 {elapsed:.1f} 秒。"))

    def seed(self, regions: list[Region], n_departments: int, n_units: int) -> tuple[int, int]:
        bureaus, departments = [], []
        for region in regions:
            code = f"SC{region.code}-CZ"
            bureaus.append(
                Organization(
                    code=code, name=f"{region.name}财政局（规模）", kind=K.FINANCE, region=region, path=f"/{code}/"
                )
            )
            for d in range(n_departments):
                code = f"SC{region.code}-D{d:03d}"
                name = f"{region.name}{DEPARTMENT_NAMES[d % len(DEPARTMENT_NAMES)]}{d // len(DEPARTMENT_NAMES) + 1}"
                departments.append(
                    Organization(code=code, name=name, kind=K.DEPARTMENT, region=region, path=f"/{code}/")
                )
        Organization.objects.bulk_create(bureaus + departments, batch_size=BATCH)
        departments = list(Organization.objects.filter(code__startswith="SC", kind=K.DEPARTMENT))
        bureaus = list(Organization.objects.filter(code__startswith="SC", kind=K.FINANCE).select_related("region"))
        units = [
            Organization(
                code=f"{dept.code}-U{u:02d}",
                name=f"{dept.name}下属单位{u + 1}",
                kind=K.UNIT,
                region_id=dept.region_id,
                parent=dept,
                path=Organization.build_path(dept, f"{dept.code}-U{u:02d}"),
            )
            for dept in departments
            for u in range(n_units)
        ]
        Organization.objects.bulk_create(units, batch_size=BATCH)
        units = list(Organization.objects.filter(code__startswith="SC", kind=K.UNIT))

        password = make_password(settings.DEMO_PASSWORD)
        people: list[tuple[User, str]] = []

        def person(username: str, org: Organization, role: str) -> None:
            people.append((User(username=username, real_name=username, organization=org, password=password), role))

        for bureau in bureaus:
            role = Role.FINANCE_PERF if bureau.region.is_city else Role.DISTRICT_FINANCE
            person(f"sc_{bureau.code.lower()}", bureau, role)
        for dept in departments:
            person(f"sc_{dept.code.lower()}_f", dept, Role.DEPT_FILLER)
            person(f"sc_{dept.code.lower()}_a", dept, Role.DEPT_APPROVER)
        for unit in units:
            for i in (1, 2):
                person(f"sc_{unit.code.lower()}_{i}", unit, Role.DEPT_FILLER)
        User.objects.bulk_create([u for u, _ in people], batch_size=BATCH)
        ids = dict(User.objects.filter(username__startswith="sc_").values_list("username", "id"))
        groups = dict(Group.objects.values_list("name", "id"))
        Membership = User.groups.through
        Membership.objects.bulk_create(
            [Membership(user_id=ids[u.username], group_id=groups[role]) for u, role in people], batch_size=BATCH
        )
        return len(bureaus) + len(departments) + len(units), len(people)
