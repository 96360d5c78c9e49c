"""Demo registry for ``seed_demo``: three agencies (one suspended, one tied to 青岛市教育局), experts
(incl. 李专家's profile and one employed by 卫健委, who must abstain there), and the staff account
``agency_zhang`` of 青岛正衡. Idempotent: rows are matched by credit code / name and only created
when missing. The key-evaluation demo (run after this) assigns 青岛正衡 through the services."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.orgs.models import Organization, Region

from .models import Agency, ConflictRelation, ConflictTie, Expert

CITY = "370200"
MAIN_AGENCY = "青岛正衡绩效评价咨询有限公司"
MAIN_CREDIT_CODE = "91370200MA3C000001"

# (credit code, name, organisation code or None, qualifications, contact, phone, address, suspended reason)
AGENCIES = [
    (
        MAIN_CREDIT_CODE,
        MAIN_AGENCY,
        f"{CITY}-AG1",
        "财政部预算绩效评价机构名录入库；近三年承担市级重点绩效评价项目 40 余项；注册会计师 12 人、高级职称 9 人。",
        "张明远",
        "0532-8588 1001",
        "青岛市市南区香港中路 61 号",
        "",
    ),
    (
        "91370000MA3D000002",
        "山东海纳工程咨询有限公司",
        f"{CITY}-AG2",
        "工程咨询甲级资信；擅长基础设施、教育基建项目的事前评估与绩效评价。",
        "刘海纳",
        "0531-8696 2002",
        "济南市历下区经十路 9999 号",
        "",
    ),
    (
        "91370200MA3E000003",
        "青岛信达会计师事务所有限公司",
        None,
        "会计师事务所执业证书；主要从事财务审计与专项资金审计。",
        "王信达",
        "0532-8577 3003",
        "青岛市市北区辽宁路 80 号",
        "2025年承担的绩效评价项目报告数据失实，经考评不合格，暂停委托一年。",
    ),
]

# (name, fields, employer, employer organisation code, title, phone, username)
EXPERTS = [
    ("李专家", "教育、财政预算、绩效评价", "青岛大学经济学院", None, "教授", "138 0532 0001", "expert_li"),
    ("王建国", "医疗卫生、公共卫生", "青岛市卫生健康委员会", f"{CITY}-HEALTH", "主任医师", "138 0532 0002", None),
    ("陈晓", "交通、工程造价", "中国海洋大学工程学院", None, "副教授", "138 0532 0003", None),
    ("赵敏", "农业农村、乡村振兴", "青岛农业大学", None, "研究员", "138 0532 0004", None),
]


def _org(code: str, name: str, kind: str) -> Organization:
    org = Organization.objects.filter(code=code).first()
    if org is None:
        org = Organization(code=code, name=name, kind=kind, region=Region.objects.get(code=CITY))
        org.full_clean()
        org.save()
    return org


@transaction.atomic
def seed_agencies() -> int:
    created = 0
    bureau = Organization.objects.get(code=f"{CITY}-CZ")
    relation_service = ConflictRelation.objects.get_or_create(name="近三年为其提供有偿服务")[0]
    relation_family = ConflictRelation.objects.get_or_create(name="亲属在该单位任职")[0]

    agencies = {}
    for code, name, org_code, qualifications, contact, phone, address, suspended in AGENCIES:
        agency = Agency.objects.filter(credit_code=code).first()
        if agency is None:
            org = _org(org_code, name, Organization.Kind.AGENCY) if org_code else None
            agency = Agency(
                registered_by=bureau,
                organization=org,
                name=name,
                credit_code=code,
                qualifications=qualifications,
                contact_person=contact,
                phone=phone,
                address=address,
                status=Agency.Status.SUSPENDED if suspended else Agency.Status.ACTIVE,
                status_reason=suspended,
            )
            agency.full_clean()
            agency.save()
            created += 1
        agencies[name] = agency

    # The main agency's staff account (role 评审专家 in the agency's organisation).
    main = agencies[MAIN_AGENCY]
    if not User.objects.filter(username="agency_zhang").exists():
        user = User(username="agency_zhang", real_name="张评价", organization=main.organization)
        user.set_password(settings.DEMO_PASSWORD)
        user.save()
        user.groups.set([Group.objects.get(name=Role.EXPERT)])
        created += 1

    # 山东海纳 served 青岛市教育局 in the last three years: it must abstain from evaluating it.
    edu = Organization.objects.filter(code=f"{CITY}-EDU").first()
    if edu is not None:
        _, made = ConflictTie.objects.get_or_create(
            agency=agencies["山东海纳工程咨询有限公司"],
            organization=edu,
            relation=relation_service,
            defaults={"note": "2024年为其编制教育装备采购项目实施方案"},
        )
        created += made

    for name, fields, employer, employer_code, title, phone, username in EXPERTS:
        expert = Expert.objects.filter(registered_by=bureau, name=name).first()
        if expert is None:
            user = User.objects.filter(username=username).first() if username else None
            if user is not None and Expert.objects.filter(user=user).exists():
                user = None
            expert = Expert(
                registered_by=bureau,
                user=user,
                name=name,
                fields=fields,
                employer=employer,
                employer_organization=Organization.objects.filter(code=employer_code).first()
                if employer_code
                else None,
                title=title,
                phone=phone,
            )
            expert.full_clean()
            expert.save()
            created += 1
        if name == "赵敏":
            agri = Organization.objects.filter(code=f"{CITY}-AGRI").first()
            if agri is not None:
                _, made = ConflictTie.objects.get_or_create(
                    expert=expert, organization=agri, relation=relation_family, defaults={"note": "配偶在该局任职"}
                )
                created += made
    return created
