"""Writes of the agency and expert registry, assignments to key evaluations, and appraisals.

Every function is keyword-only, transactional, permission-checked (``apps.core.policy``) and
audited. Bad input raises ``ValidationError`` with a Chinese message naming the field, and nothing
changes. Registry entries are never deleted: an agency or expert that should no longer work is
suspended (the history of its jobs and appraisals stays).

Assignment is what lets agency staff and experts see a job at all: each assigned user gets the
django-guardian object permission ``view_<model>`` on the job (``Scope.OBJECT`` in
``apps.core.permissions``); withdrawing the assignment revokes it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from guardian.shortcuts import assign_perm, remove_perm

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.core import audit, permissions
from apps.evaluations.models import KeyEvaluation, KeyEvaluationExpert
from apps.orgs.models import Organization

from . import jobs
from .conflicts import conflict_map
from .models import (
    Agency,
    AgencyAppraisal,
    AppraisalCriterion,
    AppraisalScore,
    ConflictRelation,
    ConflictTie,
    Expert,
)

K = Organization.Kind
KEY_VIEW_PERM = "evaluations.view_keyevaluation"
ASSESSMENT_VIEW_PERM = "assessments.view_exanteassessment"

# --- 统一社会信用代码 (GB 32100-2015): 18 characters of digits and capitals without I O S V Z ---------

CREDIT_CODE_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_CODE_RE = re.compile(f"^[{CREDIT_CODE_CHARSET}]{{18}}$")
CREDIT_CODE_MESSAGE = "统一社会信用代码应为18位，由数字和大写字母组成，不含字母 I、O、S、V、Z。"


def normalize_credit_code(value: str | None) -> str:
    """Strip blanks (also the full-width ones pasted from documents) and upper-case."""
    return re.sub(r"\s+", "", (value or "").replace("\u3000", "")).upper()


def credit_code_problem(value: str) -> str | None:
    """The message for a malformed (already normalized) code, or None when it is well formed."""
    if not value:
        return "请填写统一社会信用代码。"
    if _CREDIT_CODE_RE.match(value):
        return None
    bad = sorted({c for c in value if c not in CREDIT_CODE_CHARSET})
    detail = f"含有不允许的字符：{'、'.join(bad)}" if bad else f"现为 {len(value)} 位"
    return f"{CREDIT_CODE_MESSAGE[:-1]}（{detail}）。"


# --- helpers ---------------------------------------------------------------------------------------


def finance_bureau_of(user) -> Organization | None:
    """The finance bureau the user works in (its own organisation or the bureau above its division)."""
    org = user.organization
    if org is None:
        return None
    bureau = org if org.kind == K.FINANCE else org.parent
    return bureau if bureau is not None and bureau.kind == K.FINANCE else None


def _text(value) -> str:
    return (value or "").strip() if isinstance(value, str) or value is None else value


def _require_manage(actor, obj, what: str) -> None:
    if not permissions.can(actor, "registry.manage", obj):
        raise PermissionDenied(f"您无权{what}。")


def _check_full_clean(obj, exclude=()) -> None:
    """Model validation except uniqueness (checked before with our own messages)."""
    obj.full_clean(exclude=list(exclude), validate_unique=False, validate_constraints=False)


# --- agencies --------------------------------------------------------------------------------------

AGENCY_FIELDS = ["name", "credit_code", "qualifications", "contact_person", "phone", "email", "address", "organization"]


def _validate_agency(agency: Agency) -> None:
    errors: dict[str, str] = {}
    agency.name = _text(agency.name)
    if not agency.name:
        errors["name"] = "请填写机构名称。"
    agency.credit_code = normalize_credit_code(agency.credit_code)
    problem = credit_code_problem(agency.credit_code)
    if problem:
        errors["credit_code"] = problem
    else:
        other = Agency.objects.filter(credit_code=agency.credit_code).exclude(pk=agency.pk).first()
        if other is not None:
            errors["credit_code"] = f"统一社会信用代码 {agency.credit_code} 已登记为“{other.name}”，不能重复登记。"
    org = agency.organization if agency.organization_id else None
    if org is not None:
        if org.kind != K.AGENCY:
            errors["organization"] = f"“{org.name}”不是第三方机构类型的组织，不能作为机构账号所在组织。"
        else:
            other = Agency.objects.filter(organization=org).exclude(pk=agency.pk).first()
            if other is not None:
                errors["organization"] = f"组织“{org.name}”已关联第三方机构“{other.name}”。"
    for name in ("qualifications", "contact_person", "phone", "email", "address"):
        setattr(agency, name, _text(getattr(agency, name)))
    if errors:
        raise ValidationError(errors)
    _check_full_clean(agency, exclude=["registered_by"])


def _save_unique(obj, **kwargs) -> None:
    try:
        with transaction.atomic():
            obj.save(**kwargs)
    except IntegrityError:  # a concurrent registration of the same code/organisation won the race
        raise ValidationError("保存未成功：统一社会信用代码或关联组织已被他人同时登记，请刷新后重试。") from None


@transaction.atomic
def agency_create(*, actor, **data) -> Agency:
    """Register an agency in the actor's finance bureau (the registry is read city-wide)."""
    unknown = set(data) - set(AGENCY_FIELDS)
    if unknown:
        raise ValidationError(f"未知的字段：{'、'.join(sorted(unknown))}。")
    bureau = finance_bureau_of(actor)
    if bureau is None:
        raise PermissionDenied("只有财政部门可以登记第三方机构。")
    agency = Agency(registered_by=bureau, **data)
    _require_manage(actor, agency, "登记第三方机构")
    _validate_agency(agency)
    _save_unique(agency)
    audit.record(
        audit.Kind.CREATE,
        actor=actor,
        obj=agency,
        changes=audit.diff({}, audit.snapshot(agency, AGENCY_FIELDS)),
        comment="登记第三方机构",
    )
    return agency


def _lock_agency(agency: Agency) -> Agency:
    return Agency.objects.select_for_update(of=("self",)).select_related("registered_by").get(pk=agency.pk)


@transaction.atomic
def agency_update(*, actor, agency: Agency, **data) -> Agency:
    unknown = set(data) - set(AGENCY_FIELDS)
    if unknown:
        raise ValidationError(f"未知的字段：{'、'.join(sorted(unknown))}。")
    locked = _lock_agency(agency)
    _require_manage(actor, locked, "修改该第三方机构")
    before = audit.snapshot(locked, AGENCY_FIELDS)
    for name, value in data.items():
        setattr(locked, name, value)
    _validate_agency(locked)
    changes = audit.diff(before, audit.snapshot(locked, AGENCY_FIELDS))
    if changes:
        _save_unique(locked, update_fields=list(changes))
        audit.record(audit.Kind.UPDATE, actor=actor, obj=locked, changes=changes)
    return locked


@dataclass(frozen=True)
class StatusWords:
    """How suspending and reactivating read for one kind of registry entry (messages and audit)."""

    suspend_what: str
    reactivate_what: str
    already_suspended: str
    already_active: str
    reason_missing: str
    suspend_comment: str
    reactivate_comment: str


AGENCY_STATUS_WORDS = StatusWords(
    "暂停委托该第三方机构", "恢复委托该第三方机构", "“{name}”已处于暂停委托状态，无需重复操作。",
    "“{name}”当前状态正常，无需恢复。", "请填写暂停委托的原因。", "暂停委托", "恢复委托",
)  # fmt: skip
EXPERT_STATUS_WORDS = StatusWords(
    "暂停该评审专家", "恢复该评审专家", "专家“{name}”已处于暂停状态，无需重复操作。",
    "专家“{name}”当前状态正常，无需恢复。", "请填写暂停的原因。", "暂停", "恢复",
)  # fmt: skip


def _set_status(actor, locked, *, suspend: bool, text: str, words: StatusWords):
    """暂停 (reason required) or 恢复 an agency or expert (already locked): no new assignment while
    suspended; jobs already assigned stay as they are. The agency also keeps the reason."""
    Status = type(locked).Status
    _require_manage(actor, locked, words.suspend_what if suspend else words.reactivate_what)
    if locked.status == (Status.SUSPENDED if suspend else Status.ACTIVE):
        message = words.already_suspended if suspend else words.already_active
        raise ValidationError(message.format(name=locked.name))
    text = _text(text)
    if suspend and not text:
        raise ValidationError({"reason": words.reason_missing})
    before, locked.status = locked.status, Status.SUSPENDED if suspend else Status.ACTIVE
    changes = {"status": {"from": before, "to": locked.status}}
    fields = ["status"]
    if hasattr(locked, "status_reason"):
        new_reason = text if suspend else ""
        if not suspend:
            changes["status_reason"] = {"from": locked.status_reason, "to": ""}
        locked.status_reason = new_reason
        fields.append("status_reason")
    locked.save(update_fields=fields)
    if suspend:
        comment = f"{words.suspend_comment}：{text}"
    else:
        comment = f"{words.reactivate_comment}{('：' + text) if text else ''}"
    audit.record(audit.Kind.TRANSITION, actor=actor, obj=locked, changes=changes, comment=comment)
    return locked


@transaction.atomic
def agency_suspend(*, actor, agency: Agency, reason: str) -> Agency:
    """暂停委托: no new assignment; jobs already assigned stay as they are."""
    return _set_status(actor, _lock_agency(agency), suspend=True, text=reason, words=AGENCY_STATUS_WORDS)


@transaction.atomic
def agency_reactivate(*, actor, agency: Agency, comment: str = "") -> Agency:
    return _set_status(actor, _lock_agency(agency), suspend=False, text=comment, words=AGENCY_STATUS_WORDS)


# --- experts ---------------------------------------------------------------------------------------

EXPERT_FIELDS = ["name", "fields", "employer", "employer_organization", "title", "phone", "user"]
EXPERT_ORG_KINDS = frozenset({K.EXPERT_POOL, K.AGENCY})


def linkable_expert_users():
    """Accounts that may be an expert's login: active, role 评审专家, in an expert pool or agency."""
    return (
        User.objects.filter(groups__name=Role.EXPERT, is_active=True, organization__kind__in=EXPERT_ORG_KINDS)
        .select_related("organization")
        .order_by("organization__name", "username")
        .distinct()
    )


def _validate_expert(expert: Expert) -> None:
    errors: dict[str, str] = {}
    expert.name = _text(expert.name)
    if not expert.name:
        errors["name"] = "请填写专家姓名。"
    expert.fields = "、".join(p.strip() for p in re.split(r"[、,，;；/]+", _text(expert.fields)) if p.strip())
    if not expert.fields:
        errors["fields"] = "请填写专业领域（多个领域用顿号分隔）。"
    user = expert.user if expert.user_id else None
    if user is not None:
        if not linkable_expert_users().filter(pk=user.pk).exists():
            errors["user"] = (
                f"账号“{user.get_username()}”不能作为专家登录账号：须为在用的“评审专家”角色账号，"
                "且所在组织为专家库或第三方机构。"
            )
        else:
            other = Expert.objects.filter(user=user).exclude(pk=expert.pk).first()
            if other is not None:
                errors["user"] = f"账号“{user.get_username()}”已关联专家“{other.name}”。"
    for name in ("employer", "title", "phone"):
        setattr(expert, name, _text(getattr(expert, name)))
    if errors:
        raise ValidationError(errors)
    _check_full_clean(expert, exclude=["registered_by"])


def _lock_expert(expert: Expert) -> Expert:
    return Expert.objects.select_for_update(of=("self",)).select_related("registered_by").get(pk=expert.pk)


@transaction.atomic
def expert_create(*, actor, **data) -> Expert:
    unknown = set(data) - set(EXPERT_FIELDS)
    if unknown:
        raise ValidationError(f"未知的字段：{'、'.join(sorted(unknown))}。")
    bureau = finance_bureau_of(actor)
    if bureau is None:
        raise PermissionDenied("只有财政部门可以登记评审专家。")
    expert = Expert(registered_by=bureau, **data)
    _require_manage(actor, expert, "登记评审专家")
    _validate_expert(expert)
    try:
        with transaction.atomic():
            expert.save()
    except IntegrityError:
        raise ValidationError({"user": "该账号已被同时关联到另一位专家，请刷新后重试。"}) from None
    audit.record(
        audit.Kind.CREATE,
        actor=actor,
        obj=expert,
        changes=audit.diff({}, audit.snapshot(expert, EXPERT_FIELDS)),
        comment="登记评审专家",
    )
    return expert


@transaction.atomic
def expert_update(*, actor, expert: Expert, **data) -> Expert:
    unknown = set(data) - set(EXPERT_FIELDS)
    if unknown:
        raise ValidationError(f"未知的字段：{'、'.join(sorted(unknown))}。")
    locked = _lock_expert(expert)
    _require_manage(actor, locked, "修改该评审专家")
    before = audit.snapshot(locked, EXPERT_FIELDS)
    for name, value in data.items():
        setattr(locked, name, value)
    _validate_expert(locked)
    changes = audit.diff(before, audit.snapshot(locked, EXPERT_FIELDS))
    if changes:
        try:
            with transaction.atomic():
                locked.save(update_fields=list(changes))
        except IntegrityError:
            raise ValidationError({"user": "该账号已被同时关联到另一位专家，请刷新后重试。"}) from None
        audit.record(audit.Kind.UPDATE, actor=actor, obj=locked, changes=changes)
    return locked


@transaction.atomic
def expert_suspend(*, actor, expert: Expert, reason: str) -> Expert:
    return _set_status(actor, _lock_expert(expert), suspend=True, text=reason, words=EXPERT_STATUS_WORDS)


@transaction.atomic
def expert_reactivate(*, actor, expert: Expert, comment: str = "") -> Expert:
    return _set_status(actor, _lock_expert(expert), suspend=False, text=comment, words=EXPERT_STATUS_WORDS)


# --- conflict-of-interest ties ---------------------------------------------------------------------

TIE_ORG_KINDS = frozenset({K.DEPARTMENT, K.UNIT})


@transaction.atomic
def tie_add(
    *,
    actor,
    organization: Organization,
    relation: ConflictRelation,
    agency: Agency | None = None,
    expert: Expert | None = None,
    note: str = "",
) -> ConflictTie:
    """Declare a tie of an agency or an expert to a department or unit (bars assignments to it)."""
    if (agency is None) == (expert is None):
        raise ValidationError("请指定一个第三方机构或一位专家。")
    subject = _lock_agency(agency) if agency is not None else _lock_expert(expert)
    _require_manage(actor, subject, "登记利益关联")
    errors = {}
    if organization is None:
        errors["organization"] = "请选择关联的部门或单位。"
    elif organization.kind not in TIE_ORG_KINDS:
        errors["organization"] = f"“{organization.name}”不是预算部门或预算单位，利益关联只能登记到部门或单位。"
    if relation is None:
        errors["relation"] = "请选择关系类型。"
    elif not relation.is_active:
        errors["relation"] = f"关系类型“{relation.name}”已停用，请选择其他类型。"
    if errors:
        raise ValidationError(errors)
    duplicate = ConflictTie.objects.filter(
        agency=agency if agency is not None else None,
        expert=expert if expert is not None else None,
        organization=organization,
        relation=relation,
    )
    if duplicate.exists():
        raise ValidationError(f"已登记过与“{organization.name}”的“{relation.name}”关联，无需重复登记。")
    tie = ConflictTie(agency=agency, expert=expert, organization=organization, relation=relation, note=_text(note))
    tie.full_clean()
    tie.save()
    audit.record(
        audit.Kind.UPDATE,
        actor=actor,
        obj=subject,
        changes={"ties": {"from": None, "to": f"{organization.name}（{relation.name}）"}},
        comment="登记利益关联",
    )
    return tie


@transaction.atomic
def tie_remove(*, actor, tie: ConflictTie) -> None:
    tie = ConflictTie.objects.select_related("agency", "expert", "organization", "relation").get(pk=tie.pk)
    subject = _lock_agency(tie.agency) if tie.agency_id else _lock_expert(tie.expert)
    _require_manage(actor, subject, "删除该利益关联")
    label = f"{tie.organization.name}（{tie.relation.name}）"
    tie.delete()
    audit.record(
        audit.Kind.UPDATE,
        actor=actor,
        obj=subject,
        changes={"ties": {"from": label, "to": None}},
        comment="删除利益关联",
    )


# --- assignment: object permissions follow the assignment ------------------------------------------


def agency_staff(agency: Agency | None):
    """The accounts of the agency (users of its organisation)."""
    if agency is None or not agency.organization_id:
        return User.objects.none()
    return User.objects.filter(organization_id=agency.organization_id)


def sync_grants(perm: str, obj, before: set[int], after: set[int]) -> None:
    """Give ``perm`` on ``obj`` to the active users of ``after``; take it from ``before − after``."""
    active = list(User.objects.filter(pk__in=after, is_active=True))
    if active:
        assign_perm(perm, active, obj)
    gone = list(User.objects.filter(pk__in=before - after))
    if gone:
        remove_perm(perm, gone, obj)


def _key_entitled(evaluation: KeyEvaluation) -> set[int]:
    """Users who should see ``evaluation``: its agency's staff and its experts' accounts."""
    staff = set(agency_staff(evaluation.agency).values_list("pk", flat=True))
    experts = KeyEvaluationExpert.objects.filter(evaluation=evaluation, expert__user__isnull=False)
    return staff | set(experts.values_list("expert__user_id", flat=True))


def _lock_key_evaluation(evaluation: KeyEvaluation) -> KeyEvaluation:
    return (
        KeyEvaluation.objects.select_for_update(of=("self",))
        .select_related("department", "agency", "plan", "fund")
        .get(pk=evaluation.pk)
    )


def _fresh_experts(experts: Iterable[Expert]) -> list[Expert]:
    ids = list(dict.fromkeys(e.pk for e in experts))
    by_id = Expert.objects.select_related("employer_organization", "user").in_bulk(ids)
    return [by_id[i] for i in ids if i in by_id]


def refuse_conflicts(*, department: Organization, agency: Agency | None, experts: list[Expert]) -> None:
    """Raise the conflict messages ({"agency": […], "experts": […]}) when there is any."""
    by_agency, by_expert = conflict_map(
        department=department, agencies=[agency] if agency is not None else [], experts=experts
    )
    errors = {}
    if agency is not None and by_agency.get(agency.pk):
        errors["agency"] = by_agency[agency.pk]
    expert_messages = [m for e in experts for m in by_expert.get(e.pk, [])]
    if expert_messages:
        errors["experts"] = expert_messages
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def key_evaluation_assign(
    *, actor, evaluation: KeyEvaluation, agency: Agency | None = None, experts: Iterable[Expert] = ()
) -> KeyEvaluation:
    """Finance entrusts an agency (replacing any earlier one) and/or adds experts to a key evaluation.

    Refused with the conflict-of-interest reasons when any chosen agency or expert is tied to the
    evaluated department or suspended; then nothing changes.
    """
    locked = _lock_key_evaluation(evaluation)
    if not permissions.can(actor, "evaluation.assign", locked):
        raise PermissionDenied("您无权为该重点评价委托第三方机构或指派专家。")
    if locked.status == KeyEvaluation.Status.COMPLETED:
        raise ValidationError("该重点评价已完成，不能再委托第三方机构或指派专家。")
    agency = Agency.objects.get(pk=agency.pk) if agency is not None else None
    experts = _fresh_experts(experts)
    if agency is None and not experts:
        raise ValidationError("请选择要委托的第三方机构或要指派的评审专家。")
    assigned = set(locked.expert_assignments.values_list("expert_id", flat=True))
    new_experts = [e for e in experts if e.pk not in assigned]
    new_agency = agency if agency is not None and agency.pk != locked.agency_id else None
    if new_agency is None and not new_experts:
        raise ValidationError("所选机构和专家均已指派，无需重复指派。")
    refuse_conflicts(department=locked.department, agency=new_agency, experts=new_experts)
    before = _key_entitled(locked)
    changes = {}
    if new_agency is not None:
        changes["agency"] = {"from": str(locked.agency) if locked.agency_id else None, "to": new_agency.name}
        locked.agency = new_agency
        locked.save(update_fields=["agency", "updated_at"])
    for expert in new_experts:
        KeyEvaluationExpert.objects.create(evaluation=locked, expert=expert, assigned_by=actor)
    if new_experts:
        changes["experts"] = {"from": None, "to": [e.name for e in new_experts]}
    sync_grants(KEY_VIEW_PERM, locked, before, _key_entitled(locked))
    audit.record(audit.Kind.UPDATE, actor=actor, obj=locked, changes=changes, comment="委托第三方机构/指派专家")
    return locked


@transaction.atomic
def key_evaluation_unassign(
    *, actor, evaluation: KeyEvaluation, agency: bool = False, experts: Iterable[Expert] = ()
) -> KeyEvaluation:
    """Withdraw the agency (``agency=True``) and/or experts; they no longer see the evaluation."""
    locked = _lock_key_evaluation(evaluation)
    if not permissions.can(actor, "evaluation.assign", locked):
        raise PermissionDenied("您无权撤销该重点评价的委托。")
    if locked.status == KeyEvaluation.Status.COMPLETED:
        raise ValidationError("该重点评价已完成，委托记录须保留，不能撤销。")
    experts = list({e.pk: e for e in experts}.values())
    if not agency and not experts:
        raise ValidationError("请选择要撤销的第三方机构或专家。")
    if agency and locked.agency_id is None:
        raise ValidationError({"agency": "该重点评价尚未委托第三方机构。"})
    rows = list(locked.expert_assignments.filter(expert__in=experts).select_related("expert"))
    missing = {e.pk for e in experts} - {r.expert_id for r in rows}
    if missing:
        names = "、".join(e.name for e in experts if e.pk in missing)
        raise ValidationError({"experts": f"以下专家未指派到该重点评价：{names}。"})
    before = _key_entitled(locked)
    changes = {}
    if agency:
        changes["agency"] = {"from": locked.agency.name, "to": None}
        locked.agency = None
        locked.save(update_fields=["agency", "updated_at"])
    if rows:
        changes["experts"] = {"from": [r.expert.name for r in rows], "to": None}
        KeyEvaluationExpert.objects.filter(pk__in=[r.pk for r in rows]).delete()
    sync_grants(KEY_VIEW_PERM, locked, before, _key_entitled(locked))
    audit.record(audit.Kind.UPDATE, actor=actor, obj=locked, changes=changes, comment="撤销委托/指派")
    return locked


@transaction.atomic
def assessment_assign(*, actor, assessment, agency: Agency | None = None, experts: Iterable[Expert] = ()):
    """The assignment page of an ex-ante assessment: entrust an agency and/or add experts (who
    must have a login: they give their opinion in the system), all or nothing."""
    from apps.assessments import services as assessment_services
    from apps.assessments.models import ExAnteAssessment

    current = ExAnteAssessment.objects.select_related("fund__department").get(pk=assessment.pk)
    if not permissions.can(actor, "assessment.review", current):
        raise PermissionDenied("您无权为该事前绩效评估委托第三方机构或指派专家。")
    experts = _fresh_experts(experts)
    if agency is None and not experts:
        raise ValidationError("请选择要委托的第三方机构或要指派的评审专家。")
    no_login = [e.name for e in experts if e.user_id is None]
    if no_login:
        names = "、".join(no_login)
        raise ValidationError(
            {"experts": f"以下专家没有登录账号，不能指派到事前绩效评估（须登录提交评审意见）：{names}。"}
        )
    assigned = set(current.expert_opinions.values_list("expert_id", flat=True))
    new_experts = [e for e in experts if e.user_id not in assigned]
    new_agency = agency if agency is not None and agency.pk != current.agency_id else None
    if new_agency is None and not new_experts:
        raise ValidationError("所选机构和专家均已指派，无需重复指派。")
    if new_agency is not None:
        new_agency = Agency.objects.get(pk=new_agency.pk)
    refuse_conflicts(department=current.fund.department, agency=new_agency, experts=new_experts)
    if new_agency is not None:
        current = assessment_services.assessment_assign_agency(actor=actor, assessment=current, agency=new_agency)
    if new_experts:
        current = assessment_services.assessment_assign_experts(
            actor=actor, assessment=current, experts=[e.user for e in new_experts]
        )
    return current


# --- quality appraisal -----------------------------------------------------------------------------


def _points(raw, criterion: AppraisalCriterion) -> tuple[Decimal | None, str | None]:
    label = f"“{criterion.name}”"
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, f"{label}：请填写得分。"
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        return None, f"{label}：“{raw}”不是数字。"
    if not value.is_finite():
        return None, f"{label}：“{raw}”不是数字。"
    if value < 0 or value > criterion.max_points:
        return (
            None,
            f"{label}：得分应在 0 至 {criterion.max_points.normalize():f} 分之间（填写的是 {value.normalize():f}）。",
        )
    if value != value.quantize(Decimal("0.01")):
        return None, f"{label}：得分最多保留两位小数。"
    return value.quantize(Decimal("0.01")), None


def appraisal_problem(job, agency: Agency | None = None) -> str | None:
    """Why the agency's work on ``job`` cannot be appraised now (None: it can)."""
    kind = jobs.kind_of(job)
    what = kind.label
    if not kind.is_completed(job):
        return f"该{what}尚未完成（当前状态：{job.get_status_display()}），完成后才能考评第三方机构。"
    if job.agency_id is None:
        return f"该{what}未委托第三方机构，无需考评。"
    if agency is not None and job.agency_id != agency.pk:
        return f"该{what}委托的第三方机构是“{job.agency.name}”，不是“{agency.name}”，不能考评。"
    existing = AgencyAppraisal.objects.filter(**{kind.code: job}).first()
    if existing is not None:
        return f"该{what}已于{existing.appraised_at:%Y年%m月%d日}考评过，每个项目只考评一次。"
    return None


@transaction.atomic
def appraisal_record(
    *,
    actor,
    agency: Agency,
    key_evaluation: KeyEvaluation | None = None,
    assessment=None,
    scores: Mapping[int, Decimal],
    comments: str = "",
    score_comments: Mapping[int, str] | None = None,
) -> AgencyAppraisal:
    """Finance appraises the agency's work on one completed job: points per item, total = sum."""
    if (key_evaluation is None) == (assessment is None):
        raise ValidationError("请指定一项重点评价或一项事前绩效评估作为考评对象。")
    kind = jobs.KEY_EVALUATION if key_evaluation is not None else jobs.ASSESSMENT
    given_job = key_evaluation if key_evaluation is not None else assessment
    job = kind.model.objects.select_for_update(of=("self",)).select_related(*kind.related).get(pk=given_job.pk)
    what = kind.label
    if not permissions.can(actor, "appraisal.manage", job):
        raise PermissionDenied("您无权考评该项目的第三方机构。")
    problem = appraisal_problem(job, agency)
    if problem:
        raise ValidationError(problem)
    criteria = list(AppraisalCriterion.objects.filter(is_active=True).order_by("sort_order", "pk"))
    if not criteria:
        raise ValidationError("尚未设置考评项目，请先在系统管理中维护“机构考评项目”。")
    try:
        given = {int(k): v for k, v in (scores or {}).items()}
    except (TypeError, ValueError):
        raise ValidationError({"scores": "考评项目编号应为整数。"}) from None
    known = {c.pk for c in criteria}
    errors = []
    unknown = sorted(set(given) - known)
    if unknown:
        errors.append(f"考评项目不存在或已停用：{'、'.join(str(i) for i in unknown)}。")
    points = {}
    for criterion in criteria:
        value, problem = _points(given.get(criterion.pk), criterion)
        if problem:
            errors.append(problem)
        points[criterion.pk] = value
    if errors:
        raise ValidationError({"scores": errors})
    total = sum(points.values(), Decimal("0")).quantize(Decimal("0.01"))
    appraisal = AgencyAppraisal(
        agency=agency,
        organization=actor.organization,
        **{kind.code: job},
        total=total,
        comments=_text(comments),
        appraised_by=actor,
    )
    appraisal.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            appraisal.save()
    except IntegrityError:
        raise ValidationError(f"该{what}已被他人同时考评，每个项目只考评一次。") from None
    comments_by = {int(k): _text(v)[:200] for k, v in (score_comments or {}).items()}
    AppraisalScore.objects.bulk_create(
        AppraisalScore(
            appraisal=appraisal,
            criterion=c,
            max_points=c.max_points,
            points=points[c.pk],
            comment=comments_by.get(c.pk, ""),
        )
        for c in criteria
    )
    audit.record(
        audit.Kind.CREATE,
        actor=actor,
        obj=appraisal,
        changes={
            "job": {"from": None, "to": str(job)},
            "total": {"from": None, "to": str(total)},
            "scores": {"from": None, "to": {c.name: str(points[c.pk]) for c in criteria}},
        },
        comment=f"考评第三方机构“{agency.name}”",
    )
    return appraisal
