"""The conflict-of-interest rule (回避): who may not be assigned to evaluate a department.

An agency or an expert is refused for a job when

* it is suspended (暂停委托 / 暂停);
* it has declared a tie (``ConflictTie``) of an *active* relation type to the evaluated department,
  to any organisation below it (its units), or to an organisation above it;
* for an expert: the employer organisation in the system is the department, one of its units or
  an organisation above it.

``conflicts`` answers for one candidate; ``conflict_map`` for a whole list of candidates in two
queries (the assignment page shows every candidate with its reasons).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

from apps.orgs.models import Organization

from .models import Agency, ConflictTie, Expert


def _ancestor_paths(path: str) -> list[str]:
    """'/A/B/' → ['/A/', '/A/B/'] (the organisation itself and everything above it)."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def _zone_q(department: Organization, prefix: str) -> Q:
    """Organisations in the department's subtree, or above it (``prefix`` is the path to the org)."""
    return Q(**{f"{prefix}path__startswith": department.path}) | Q(
        **{f"{prefix}path__in": _ancestor_paths(department.path)}
    )


def _in_zone(org: Organization | None, department: Organization) -> bool:
    return org is not None and (org.path.startswith(department.path) or department.path.startswith(org.path))


def _tie_message(subject: str, name: str, department: Organization, tie: ConflictTie) -> str:
    where = "" if tie.organization_id == department.pk else f"（关联单位：{tie.organization.name}）"
    note = f"，{tie.note}" if tie.note else ""
    return f"{subject}“{name}”与被评价部门“{department.name}”存在利益关联：{tie.relation.name}{where}{note}，应当回避。"


def conflict_map(
    *, department: Organization, agencies: Iterable[Agency] = (), experts: Iterable[Expert] = ()
) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """Reasons per agency id and per expert id (only candidates with a reason appear)."""
    agencies, experts = list(agencies), list(experts)
    by_agency: dict[int, list[str]] = {}
    by_expert: dict[int, list[str]] = {}
    for agency in agencies:
        if agency.status != Agency.Status.ACTIVE:
            reason = f"（{agency.status_reason.rstrip('。')}）" if agency.status_reason else ""
            by_agency.setdefault(agency.pk, []).append(f"第三方机构“{agency.name}”已暂停委托{reason}，不能委托。")
    for expert in experts:
        if expert.status != Expert.Status.ACTIVE:
            by_expert.setdefault(expert.pk, []).append(f"专家“{expert.name}”已暂停，不能指派。")
        employer = expert.employer_organization if expert.employer_organization_id else None
        if _in_zone(employer, department):
            by_expert.setdefault(expert.pk, []).append(
                f"专家“{expert.name}”的工作单位“{employer.name}”属于被评价部门“{department.name}”或其上级，应当回避。"
            )
    if agencies or experts:
        subjects = Q(agency__in=[a.pk for a in agencies]) | Q(expert__in=[e.pk for e in experts])
        ties = (
            ConflictTie.objects.filter(subjects, _zone_q(department, "organization__"), relation__is_active=True)
            .select_related("relation", "organization")
            .order_by("relation__sort_order", "pk")
        )
        names = {("a", a.pk): a.name for a in agencies} | {("e", e.pk): e.name for e in experts}
        for tie in ties:
            if tie.agency_id:
                message = _tie_message("第三方机构", names[("a", tie.agency_id)], department, tie)
                by_agency.setdefault(tie.agency_id, []).append(message)
            else:
                message = _tie_message("专家", names[("e", tie.expert_id)], department, tie)
                by_expert.setdefault(tie.expert_id, []).append(message)
    return by_agency, by_expert


def conflicts(*, department: Organization, agency: Agency | None = None, expert: Expert | None = None) -> list[str]:
    """Why ``agency`` and/or ``expert`` may not evaluate ``department`` (empty: no conflict)."""
    by_agency, by_expert = conflict_map(
        department=department,
        agencies=[agency] if agency is not None else [],
        experts=[expert] if expert is not None else [],
    )
    return [*(by_agency.get(agency.pk, []) if agency else []), *(by_expert.get(expert.pk, []) if expert else [])]
