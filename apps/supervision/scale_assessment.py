"""Scale data for the annual assessment (考核): one score sheet per region for FY 2025.

``seed_scale_assessments(stdout)`` creates, once, a ``departments`` assessment with the default
items for each region's scale finance bureau (≈100 departments each) and the city's ``districts``
one (the 10 district offices), each created by the bureau's scale finance user through
``assessment_create`` (so they are audited like any other). A second run changes nothing. They are
left in draft: ``bench/bench_assessment.py`` computes them.
"""

from __future__ import annotations

from apps.accounts.models import User
from apps.orgs.models import FiscalYear, Organization

from .models import AnnualAssessment, AssessmentKind
from .services_assessment import assessment_create

SCALE_YEAR = 2025  # the scale data covers 2025–2027; 2025's self-evaluations and rectifications are due


def seed_scale_assessments(stdout=None) -> int:
    year = FiscalYear.objects.filter(pk=SCALE_YEAR).first()
    if year is None:
        if stdout:
            stdout.write("年度考核：缺少 2025 年度，未生成。")
        return 0
    bureaus = Organization.objects.filter(
        code__startswith="SC", kind=Organization.Kind.FINANCE, parent__isnull=True
    ).select_related("region")
    users = {u.organization_id: u for u in User.objects.filter(username__startswith="sc_", organization__in=bureaus)}
    existing = set(AnnualAssessment.objects.filter(fiscal_year=year).values_list("region_id", "kind"))
    made = 0
    for bureau in bureaus:
        user = users.get(bureau.pk)
        if user is None:
            continue
        kinds = [AssessmentKind.DEPARTMENTS]
        if bureau.region.is_city:
            kinds.append(AssessmentKind.DISTRICTS)
        for kind in kinds:
            if (bureau.region_id, kind) in existing:
                continue
            assessment_create(actor=user, fiscal_year=year, kind=kind)
            made += 1
    if stdout:
        total = AnnualAssessment.objects.filter(fiscal_year=year).count()
        stdout.write(f"年度考核：新建 {made} 份 2025 年度考核（共 {total} 份）。")
    return made
