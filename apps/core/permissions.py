"""The one place that decides who may do what to which rows.

Every action is declared once with the scope each role gets for it. Three questions are answered
from that map and nothing else (the Wagtail permission-policy shape):

* ``restrict(queryset, user, action)`` — which rows (views, API, exports, dashboards start here);
* ``can(user, action, obj)`` — may this user do this to this row;
* ``users_who_can(action, obj)`` — who may (routes review queues and reminders).

Scopes are relative to the user's organisation and the row's owner organisation, reached through
the model's ``scope_path`` (default ``"organization"``; ``""`` for ``Organization`` itself).
``docs/permissions.md`` is generated from this map (``manage.py permissions_doc``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db.models import Model, Q, QuerySet


class Scope:
    OWN = "own"  # rows of the user's own organisation
    SUBTREE = "subtree"  # own organisation and everything below it (a department and its units)
    ASSIGNED = "assigned"  # departments assigned to a sector reviewer, with their units
    REGION = "region"  # every organisation of the user's region
    ALL = "all"  # every region (city-level oversight)
    OBJECT = "object"  # only rows assigned to the user one by one (experts, agencies)

    LABELS = {
        OWN: "本机构",
        SUBTREE: "本机构及下属",
        ASSIGNED: "分管部门",
        REGION: "本区域",
        ALL: "全市",
        OBJECT: "指派对象",
    }


@dataclass(frozen=True)
class Action:
    code: str
    label: str
    grants: Mapping[str, str] = field(default_factory=dict)  # role code → Scope


ACTIONS: dict[str, Action] = {}


def register(*actions: Action) -> None:
    """Declare actions. Each app calls this from its ``permissions.py``; a code is declared once."""
    for action in actions:
        if action.code in ACTIONS and ACTIONS[action.code] != action:
            raise ValueError(f"action {action.code!r} declared twice")
        ACTIONS[action.code] = action


def get_action(code: str) -> Action:
    try:
        return ACTIONS[code]
    except KeyError:
        raise KeyError(f"unknown action {code!r}: declare it in an app's permissions.py") from None


def scope_path_of(model: type[Model]) -> str:
    return getattr(model, "scope_path", "organization")


def _prefix(path: str) -> str:
    return f"{path}__" if path else ""


def user_scopes(user, action: str) -> set[str]:
    """The scopes this user's roles grant for ``action`` (empty: the role may never do it)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    grants = get_action(action).grants
    return {grants[role] for role in user.role_codes if role in grants}


def has_action(user, action: str) -> bool:
    """May this user ever do ``action`` (on some row)? Decides 403 versus a scoped 404."""
    return bool(user_scopes(user, action))


def _scope_q(user, scope: str, model: type[Model], path: str) -> Q:
    org = user.organization
    p = _prefix(path)
    if scope == Scope.ALL:
        return Q()
    if org is None:
        return Q(pk__in=[])
    if scope == Scope.OWN:
        return Q(**{f"{path}_id" if path else "pk": org.pk})
    if scope == Scope.SUBTREE:
        return Q(**{f"{p}path__startswith": org.path})
    if scope == Scope.REGION:
        # A model may carry its owner's region itself (``region_field``): no join, and its indexes apply.
        return Q(**{f"{getattr(model, 'region_field', p + 'region')}_id": org.region_id})
    if scope == Scope.ASSIGNED:
        q = Q(pk__in=[])
        for dept_path in user.assigned_department_paths:
            q |= Q(**{f"{p}path__startswith": dept_path})
        return q
    if scope == Scope.OBJECT:
        from guardian.shortcuts import get_objects_for_user

        perm = f"{model._meta.app_label}.view_{model._meta.model_name}"
        assigned = get_objects_for_user(user, perm, klass=model, accept_global_perms=False, with_superuser=False)
        return Q(pk__in=assigned.values("pk"))
    raise ValueError(f"unknown scope {scope!r}")


def restrict(queryset: QuerySet, user, action: str) -> QuerySet:
    """Rows of ``queryset`` the user may ``action``; none if the role never may."""
    scopes = user_scopes(user, action)
    if not scopes:
        return queryset.none()
    if Scope.ALL in scopes:
        return queryset
    model = queryset.model
    path = scope_path_of(model)
    q = Q(pk__in=[])
    for scope in sorted(scopes):
        q |= _scope_q(user, scope, model, path)
    return queryset.filter(q)


def owner_of(obj: Model):
    """The organisation that owns ``obj`` (walks ``scope_path``)."""
    owner = obj
    for part in filter(None, scope_path_of(type(obj)).split("__")):
        owner = getattr(owner, part, None)
        if owner is None:
            return None
    return owner


def _in_scope(user, scope: str, obj: Model, owner) -> bool:
    org = user.organization
    if scope == Scope.ALL:
        return True
    if owner is None or org is None:
        return False
    if scope == Scope.OWN:
        return owner.pk == org.pk
    if scope == Scope.SUBTREE:
        return owner.path.startswith(org.path)
    if scope == Scope.REGION:
        return owner.region_id == org.region_id
    if scope == Scope.ASSIGNED:
        return any(owner.path.startswith(p) for p in user.assigned_department_paths)
    if scope == Scope.OBJECT:
        from guardian.core import ObjectPermissionChecker

        perm = f"view_{obj._meta.model_name}"
        return ObjectPermissionChecker(user).has_perm(perm, obj)
    raise ValueError(f"unknown scope {scope!r}")


def can(user, action: str, obj: Model) -> bool:
    """May ``user`` do ``action`` on ``obj`` (role grants it and the row is in that role's scope)?"""
    scopes = user_scopes(user, action)
    if not scopes:
        return False
    owner = owner_of(obj)
    return any(_in_scope(user, scope, obj, owner) for scope in scopes)


def _ancestor_paths(path: str) -> list[str]:
    """'/A/B/C/' → ['/A/', '/A/B/', '/A/B/C/']."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def users_who_can(action: str, obj: Model) -> QuerySet:
    """Active users who may do ``action`` on ``obj``: the mirror image of ``can``."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    owner = owner_of(obj)
    q = Q(pk__in=[])
    for role, scope in get_action(action).grants.items():
        role_q = Q(groups__name=role)
        if scope == Scope.ALL:
            q |= role_q
        elif owner is None:
            continue
        elif scope == Scope.OWN:
            q |= role_q & Q(organization_id=owner.pk)
        elif scope == Scope.SUBTREE:
            q |= role_q & Q(organization__path__in=_ancestor_paths(owner.path))
        elif scope == Scope.REGION:
            q |= role_q & Q(organization__region_id=owner.region_id)
        elif scope == Scope.ASSIGNED:
            q |= role_q & Q(assigned_departments__path__in=_ancestor_paths(owner.path))
        elif scope == Scope.OBJECT:
            from guardian.shortcuts import get_users_with_perms

            holders = get_users_with_perms(obj, only_with_perms_in=[f"view_{obj._meta.model_name}"])
            q |= role_q & Q(pk__in=holders.values("pk"))
    return User.objects.filter(q, is_active=True).distinct()


class RecipientIndex:
    """``users_who_can`` for many rows at once: every active user's roles and organisation loaded
    in a few queries, then answered in memory. The reminder sweep asks it about every open record;
    ``tests/test_reminder_recipients.py`` checks it agrees with ``users_who_can`` row by row."""

    def __init__(self) -> None:
        from collections import defaultdict

        from django.contrib.auth import get_user_model

        from apps.orgs.models import Organization

        User = get_user_model()
        self.orgs: dict[int, tuple[str, int]] = {
            pk: (path, region_id) for pk, path, region_id in Organization.objects.values_list("pk", "path", "region_id")
        }
        self._org_by_path = {path: pk for pk, (path, _) in self.orgs.items()}
        users = dict(User.objects.filter(is_active=True).values_list("pk", "organization_id"))
        self.by_role: dict[str, set[int]] = defaultdict(set)
        self.by_role_org: dict[tuple[str, int], set[int]] = defaultdict(set)
        self.by_role_region: dict[tuple[str, int], set[int]] = defaultdict(set)
        self.by_role_assigned: dict[tuple[str, str], set[int]] = defaultdict(set)
        roles: dict[int, list[str]] = defaultdict(list)
        for user_id, role in User.groups.through.objects.values_list("user_id", "group__name"):
            if user_id in users:
                roles[user_id].append(role)
        for user_id, role_list in roles.items():
            org_id = users[user_id]
            # An organisation created after ``self.orgs`` was read: its region is unknown here.
            org = self.orgs.get(org_id)
            for role in role_list:
                self.by_role[role].add(user_id)
                if org_id is not None:
                    self.by_role_org[(role, org_id)].add(user_id)
                if org is not None:
                    self.by_role_region[(role, org[1])].add(user_id)
        for user_id, dept_path in User.assigned_departments.through.objects.values_list(
            "user_id", "organization__path"
        ):
            for role in roles.get(user_id, ()):
                self.by_role_assigned[(role, dept_path)].add(user_id)
        self._active = set(users)
        self._object_holders: dict[type[Model], dict[int, set[int]]] = {}
        self._group_members: dict[int, set[int]] | None = None
        self._memo: dict[tuple[int, int], frozenset[int]] = {}
        self._ancestor_memo: dict[int, tuple[list[str], list[int | None]]] = {}

    def _members(self) -> dict[int, set[int]]:
        """Group → its active members (loaded once, when a group holds an object permission)."""
        if self._group_members is None:
            from django.contrib.auth import get_user_model

            members: dict[int, set[int]] = {}
            for user_id, group_id in get_user_model().groups.through.objects.values_list("user_id", "group_id"):
                if user_id in self._active:
                    members.setdefault(group_id, set()).add(user_id)
            self._group_members = members
        return self._group_members

    def _holders_of_object(self, model: type[Model], object_id: int) -> set[int]:
        """Who holds ``view_<model>`` on the row: given to the user, or to a group the user is in
        (guardian's two tables — ``users_who_can`` and ``can`` honour both)."""
        if model not in self._object_holders:
            from guardian.models import GroupObjectPermission, UserObjectPermission

            perm = {
                "content_type__app_label": model._meta.app_label,
                "content_type__model": model._meta.model_name,
                "permission__codename": f"view_{model._meta.model_name}",
            }
            holders: dict[int, set[int]] = {}
            for object_pk, user_id in UserObjectPermission.objects.filter(**perm).values_list("object_pk", "user_id"):
                holders.setdefault(int(object_pk), set()).add(user_id)
            groups = list(GroupObjectPermission.objects.filter(**perm).values_list("object_pk", "group_id"))
            members = self._members() if groups else {}
            for object_pk, group_id in groups:
                holders.setdefault(int(object_pk), set()).update(members.get(group_id, ()))
            self._object_holders[model] = holders
        return self._object_holders[model].get(object_id, set())

    def holders(self, grants: Mapping[str, str], owner_id: int | None, model=None, object_id=None) -> frozenset[int]:
        """Active users whose role gets one of ``grants`` (role → scope) over a row owned by ``owner_id``."""
        key = (id(grants), owner_id)
        found = self._memo.get(key)
        if found is None:
            found = frozenset(self._holders(grants, owner_id))
            self._memo[key] = found
        if model is not None and Scope.OBJECT in grants.values():
            extra = {
                user_id
                for role, scope in grants.items()
                if scope == Scope.OBJECT
                for user_id in self._holders_of_object(model, object_id) & self.by_role.get(role, set())
            }
            if extra:
                return found | extra
        return found

    def _ancestors(self, owner_id: int) -> tuple[list[str], list[int | None]]:
        """The owner's ancestor paths and their organisations, computed once per owner (the sweep
        asks about the same unit for each of its records and actions)."""
        found = self._ancestor_memo.get(owner_id)
        if found is None:
            paths = _ancestor_paths(self.orgs[owner_id][0])
            found = self._ancestor_memo[owner_id] = (paths, [self._org_by_path.get(p) for p in paths])
        return found

    def _holders(self, grants: Mapping[str, str], owner_id: int | None) -> set[int]:
        found: set[int] = set()
        owner = self.orgs.get(owner_id)
        for role, scope in grants.items():
            if scope == Scope.ALL:
                found |= self.by_role.get(role, set())
            elif owner is None or scope == Scope.OBJECT:
                continue
            elif scope == Scope.OWN:
                found |= self.by_role_org.get((role, owner_id), set())
            elif scope == Scope.SUBTREE:
                for org_id in self._ancestors(owner_id)[1]:
                    found |= self.by_role_org.get((role, org_id), set())
            elif scope == Scope.REGION:
                found |= self.by_role_region.get((role, owner[1]), set())
            elif scope == Scope.ASSIGNED:
                for path in self._ancestors(owner_id)[0]:
                    found |= self.by_role_assigned.get((role, path), set())
        return found

    def who_can(self, action: str, owner_id: int | None, model=None, object_id=None) -> frozenset[int]:
        """The in-memory ``users_who_can(action, row)`` for a row owned by ``owner_id``."""
        return self.holders(get_action(action).grants, owner_id, model, object_id)


def action_table(actions: Iterable[Action] | None = None, roles: Iterable[tuple[str, str]] = ()):
    """Rows for the role × action table in docs/permissions.md and the admin help page."""
    actions = list(actions if actions is not None else ACTIONS.values())
    return [(a.code, a.label, [Scope.LABELS.get(a.grants.get(code, ""), "—") for code, _ in roles]) for a in actions]
