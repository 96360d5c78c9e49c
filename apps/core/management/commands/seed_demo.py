"""A believable Qingdao to try qdperf with: organisations, fiscal years, calendar and demo accounts.

Idempotent: rows are matched by their business key (organisation code, username, year/step) and
only created when missing, so a second run changes nothing. Passwords are set only on creation.
Later issues extend this command with their own records (``extend_demo`` hooks below).
"""

from datetime import date

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.agencies.demo import seed_agencies
from apps.evaluations.demo_key import seed_key_evaluations
from apps.evaluations.demo_self import seed_self_evaluations
from apps.monitoring.demo import seed_monitoring
from apps.orgs.models import FiscalYear, Organization, Region, WorkCalendar, WorkStep
from apps.reminders.demo import seed_reminder_demo
from apps.results.demo_disclosure import seed_disclosures
from apps.results.demo_linkage import seed_linkage
from apps.results.demo_rectification import seed_rectifications
from apps.supervision.demo_areas import seed_area_demo
from apps.supervision.demo_assessment import seed_assessment_demo
from apps.supervision.demo_audit import seed_audit_demo
from apps.supervision.demo_fiscal import seed_fiscal_demo
from apps.targets.demo import seed_targets

K = Organization.Kind
CITY = "370200"

CITY_DIVISIONS = [
    ("JX", "绩效管理处"),
    ("KJW", "科教文处"),
    ("SB", "社会保障处"),
    ("JJ", "经济建设处"),
    ("NY", "农业农村处"),
    ("XX", "信息网络中心"),
]

CITY_DEPARTMENTS = [
    ("EDU", "青岛市教育局", ["青岛第二中学", "青岛市教育装备中心", "青岛市电化教育馆"]),
    ("HEALTH", "青岛市卫生健康委员会", ["青岛市疾病预防控制中心", "青岛市中心血站"]),
    ("TRANS", "青岛市交通运输局", ["青岛市公路建设养护中心", "青岛市交通运输综合执法支队"]),
    ("AGRI", "青岛市农业农村局", ["青岛市农业技术推广中心", "青岛市动物疫病预防控制中心"]),
    ("SCI", "青岛市科学技术局", ["青岛市科技发展战略研究院", "青岛市科技馆"]),
    ("CIVIL", "青岛市民政局", ["青岛市社会福利院", "青岛市救助管理站"]),
    ("HRSS", "青岛市人力资源和社会保障局", ["青岛市就业服务中心", "青岛市社会保险事业中心"]),
    ("HOUSE", "青岛市住房和城乡建设局", ["青岛市住房保障中心", "青岛市建筑工程管理服务中心"]),
    ("ENV", "青岛市生态环境局", ["青岛市生态环境监测中心", "青岛市固体废物和化学品管理中心"]),
    ("CULT", "青岛市文化和旅游局", ["青岛市图书馆", "青岛市博物馆", "青岛市文化馆"]),
    ("OCEAN", "青岛市海洋发展局", ["青岛市海洋环境监测中心", "青岛市渔业技术推广站"]),
    ("IIT", "青岛市工业和信息化局", ["青岛市中小企业服务中心", "青岛市大数据发展中心"]),
]

# Each 区市 gets a finance office and three departments with one unit each.
DISTRICT_DEPARTMENTS = [
    ("EDU", "教育和体育局", "实验小学"),
    ("HEALTH", "卫生健康局", "人民医院"),
    ("AGRI", "农业农村局", "农业技术服务中心"),
]

OTHER_CITY_ORGS = [
    ("AUDIT", "青岛市审计局", K.AUDIT),
    ("NPC", "青岛市人大常委会预算工作室", K.NPC),
    ("AG1", "青岛正衡绩效评价咨询有限公司", K.AGENCY),
    ("AG2", "山东海纳工程咨询有限公司", K.AGENCY),
    ("EXP", "青岛市预算绩效管理专家库", K.EXPERT_POOL),
]

# (username, real name, organisation code, roles, assigned departments)
DEMO_USERS = [
    ("perf_admin", "王绩效", f"{CITY}-CZ-JX", [Role.FINANCE_PERF], []),
    ("finance_leader", "高局长", f"{CITY}-CZ", [Role.FINANCE_LEADER], []),
    ("sector_kjw", "刘科教", f"{CITY}-CZ-KJW", [Role.FINANCE_SECTOR], [f"{CITY}-EDU", f"{CITY}-SCI"]),
    ("edu_filler", "张填报", f"{CITY}-EDU", [Role.DEPT_FILLER], []),
    ("edu_approver", "李审核", f"{CITY}-EDU", [Role.DEPT_APPROVER], []),
    ("edu_unit_filler", "赵老师", f"{CITY}-EDU-U1", [Role.DEPT_FILLER], []),
    ("health_filler", "陈卫健", f"{CITY}-HEALTH", [Role.DEPT_FILLER], []),
    ("shinan_finance", "孙市南", "370202-CZ", [Role.DISTRICT_FINANCE], []),
    ("shinan_edu_filler", "周教体", "370202-EDU", [Role.DEPT_FILLER], []),
    ("npc_liaison", "吴人大", f"{CITY}-NPC", [Role.NPC_LIAISON], []),
    ("auditor", "郑审计", f"{CITY}-AUDIT", [Role.AUDITOR], []),
    ("expert_li", "李专家", f"{CITY}-EXP", [Role.EXPERT], []),
    ("sysadmin", "系统管理员", f"{CITY}-CZ-XX", [Role.SYSADMIN], []),
    ("security_admin", "安全管理员", f"{CITY}-CZ-XX", [Role.SECURITY_ADMIN], []),
    ("audit_admin", "安全审计员", f"{CITY}-CZ-XX", [Role.AUDIT_ADMIN], []),
]

FISCAL_YEARS = [(2025, False, False), (2026, True, False), (2027, False, False)]


def default_calendar(year: int) -> dict[str, tuple[date | None, date]]:
    """Due dates of fiscal year ``year`` (domain.md, Calendar): targets in N-1, evaluation in N+1."""
    return {
        WorkStep.TARGET_FILING: (date(year - 1, 9, 1), date(year - 1, 10, 31)),
        WorkStep.TARGET_DEPT_REVIEW: (date(year - 1, 11, 1), date(year - 1, 11, 15)),
        WorkStep.TARGET_FINANCE_REVIEW: (date(year - 1, 11, 16), date(year - 1, 12, 20)),
        WorkStep.MONITORING: (date(year, 8, 1), date(year, 8, 15)),
        WorkStep.SELF_EVALUATION: (date(year + 1, 1, 15), date(year + 1, 3, 31)),
        WorkStep.DEPT_EVALUATION: (date(year + 1, 4, 1), date(year + 1, 6, 30)),
        WorkStep.FINANCE_EVALUATION: (date(year + 1, 4, 1), date(year + 1, 9, 30)),
        WorkStep.DISCLOSURE: (None, date(year + 1, 10, 31)),
    }


class Command(BaseCommand):
    help = "载入青岛演示数据（可重复执行，第二次执行不会改变任何数据）。"

    def handle(self, *args, **options):
        with transaction.atomic():
            created = self.seed()
        self.stdout.write(self.style.SUCCESS(f"演示数据就绪：新建 {created} 条记录。演示密码见 README。"))

    def seed(self) -> int:
        self.created = 0
        regions = {r.code: r for r in Region.objects.all()}
        city = regions[CITY]
        bureau = self.org(f"{CITY}-CZ", "青岛市财政局", K.FINANCE, city, short_name="市财政局")
        self.bureaus = [bureau]
        for code, name in CITY_DIVISIONS:
            self.org(f"{CITY}-CZ-{code}", name, K.FINANCE_DIVISION, city, parent=bureau)
        for code, name, units in CITY_DEPARTMENTS:
            dept = self.org(f"{CITY}-{code}", name, K.DEPARTMENT, city)
            for i, unit in enumerate(units, start=1):
                self.org(f"{CITY}-{code}-U{i}", unit, K.UNIT, city, parent=dept)
        for code, name, kind in OTHER_CITY_ORGS:
            self.org(f"{CITY}-{code}", name, kind, city)
        for region in regions.values():
            if region.is_city:
                continue
            self.bureaus.append(self.org(f"{region.code}-CZ", f"{region.name}财政局", K.FINANCE, region))
            for code, name, unit in DISTRICT_DEPARTMENTS:
                dept = self.org(f"{region.code}-{code}", f"{region.name}{name}", K.DEPARTMENT, region)
                self.org(f"{region.code}-{code}-U1", f"{region.name}{unit}", K.UNIT, region, parent=dept)
        for year, current, closed in FISCAL_YEARS:
            _, made = FiscalYear.objects.get_or_create(year=year, defaults={"is_current": current, "is_closed": closed})
            self.created += made
        self.calendar()
        self.users()
        self.created += seed_targets(2026)
        self.created += seed_monitoring(2026)
        # 2025 has ended: its funds are self-evaluated and key-evaluated (by an agency) in 2026.
        self.created += seed_targets(2025)
        self.created += seed_agencies()
        self.created += seed_self_evaluations(2025)
        self.created += seed_key_evaluations(2025)
        # 结果应用: rectification of the 2025 results, 2027 requests linked to the grades, disclosure.
        self.created += seed_rectifications()
        self.created += seed_audit_demo()
        self.created += seed_fiscal_demo()
        self.created += seed_area_demo()  # after the evaluations: every area has graded 2025 funds
        self.created += seed_linkage()
        self.created += seed_disclosures()
        self.created += seed_reminder_demo()  # deadlines a few days around today, for the reminder sweep
        self.created += seed_assessment_demo()  # measures all of the above, so it comes last
        return self.created

    def org(self, code, name, kind, region, parent=None, short_name="") -> Organization:
        org = Organization.objects.filter(code=code).first()
        if org is None:
            org = Organization(code=code, name=name, kind=kind, region=region, parent=parent, short_name=short_name)
            org.full_clean()
            org.save()
            self.created += 1
        return org

    def calendar(self) -> None:
        for bureau in self.bureaus:
            for year in (2025, 2026, 2027):
                for step, (starts_on, due_on) in default_calendar(year).items():
                    _, made = WorkCalendar.objects.get_or_create(
                        organization=bureau,
                        fiscal_year_id=year,
                        step=step,
                        defaults={"starts_on": starts_on, "due_on": due_on},
                    )
                    self.created += made

    def users(self) -> None:
        orgs = {o.code: o for o in Organization.objects.all()}
        groups = {g.name: g for g in Group.objects.all()}
        for username, real_name, org_code, roles, departments in DEMO_USERS:
            if User.objects.filter(username=username).exists():
                continue
            # An address on a reserved domain: reminder e-mails print to the console in `make run`.
            user = User(
                username=username, real_name=real_name, organization=orgs[org_code], email=f"{username}@qdperf.example"
            )
            user.set_password(settings.DEMO_PASSWORD)
            user.save()
            user.groups.set([groups[r] for r in roles])
            user.assigned_departments.set([orgs[c] for c in departments])
            self.created += 1
