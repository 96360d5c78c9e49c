"""``RecipientIndex`` (the sweep's batch ``users_who_can``) agrees with ``users_who_can`` — for every
declared action over every organisation of the cast, and for rows assigned one by one (guardian
object permissions given to a person or to a group the person is in)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from guardian.shortcuts import assign_perm

import apps.evaluations.reminder_sources_key  # noqa: F401  (registers the source)
from apps.accounts.roles import Role
from apps.core import permissions
from apps.evaluations.models import KeyEvaluation
from apps.evaluations.reminder_sources_key import key_evaluation_work
from apps.orgs.models import Organization
from apps.reminders import services
from apps.reminders import sources as registry
from apps.reminders.models import Reminder
from tests.factories import UserFactory
from tests.test_key_evaluations import make_fund
from tests.test_reminder_sources_key import FINANCE_DUE, city_calendar, plan_with, years  # noqa: F401

User = get_user_model()
CONDUCT = "evaluation.conduct_finance"


def ids(users) -> set[int]:
    return set(users.values_list("pk", flat=True))


def test_every_action_over_every_organisation_agrees_with_users_who_can(world):
    # People the index must leave out as users_who_can does: deactivated, and without an organisation.
    UserFactory(username="gone_filler", organization=world.edu_unit, roles=[Role.DEPT_FILLER], is_active=False)
    UserFactory(username="nowhere_perf", organization=None, roles=[Role.FINANCE_PERF])
    index = permissions.RecipientIndex()
    organisations = list(Organization.objects.order_by("pk"))
    checked = 0
    for code in permissions.ACTIONS:
        for org in organisations:
            expected = ids(permissions.users_who_can(code, org))
            assert set(index.who_can(code, org.pk, Organization, org.pk)) == expected, (code, org.name)
            checked += bool(expected)
    assert checked > 100  # the comparison is not vacuous


@pytest.fixture
def evaluation(world, city_calendar):  # noqa: F811
    return plan_with(world, [make_fund(world, 2025, "EDU-2025-01")]).evaluations.get()


def test_a_group_object_permission_reaches_the_group_s_members(world, evaluation):
    group = Group.objects.create(name="某评价组")
    world.expert_li.groups.add(group)
    away = UserFactory(username="expert_away", organization=world.expert_pool, roles=[Role.EXPERT], is_active=False)
    away.groups.add(group)
    assign_perm("evaluations.view_keyevaluation", group, evaluation)
    expert = User.objects.get(pk=world.expert_li.pk)
    assert permissions.can(expert, CONDUCT, evaluation)
    expected = ids(permissions.users_who_can(CONDUCT, evaluation))
    assert world.expert_li.pk in expected and away.pk not in expected
    found = permissions.RecipientIndex().who_can(CONDUCT, evaluation.department_id, KeyEvaluation, evaluation.pk)
    assert set(found) == expected


def test_object_permissions_given_to_a_person_and_to_a_group_agree_row_by_row(world, city_calendar):  # noqa: F811
    funds = [make_fund(world, 2025, "EDU-2025-01"), make_fund(world, 2025, "EDU-2025-02")]
    evaluation, other = plan_with(world, funds).evaluations.order_by("fund__code")
    group = Group.objects.create(name="第二评价组")
    world.expert_li.groups.add(group)
    assign_perm("evaluations.view_keyevaluation", world.expert_li, evaluation)
    assign_perm("evaluations.view_keyevaluation", group, other)
    index = permissions.RecipientIndex()
    for row in (evaluation, other):
        for code in ("evaluation.view", CONDUCT, "evaluation.complete_finance"):
            expected = ids(permissions.users_who_can(code, row))
            assert set(index.who_can(code, row.department_id, KeyEvaluation, row.pk)) == expected, (code, row.pk)


def test_the_sweep_reminds_a_member_of_an_assigned_group(world, evaluation, monkeypatch):
    monkeypatch.setattr(registry, "SOURCES", {"key_evaluations": key_evaluation_work})
    group = Group.objects.create(name="某评价组")
    world.expert_li.groups.add(group)
    assign_perm("evaluations.view_keyevaluation", group, evaluation)
    services.sweep(FINANCE_DUE)
    assert Reminder.objects.filter(recipient=world.expert_li, object_id=evaluation.pk).exists()
