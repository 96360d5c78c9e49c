"""The shared workflow helper, exercised on the test-only Dossier."""

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from apps.core.models import AuditEvent
from apps.core.workflow import Transition, Workflow
from tests.testapp.models import Dossier

S = Dossier.Status


def must_have_amount(dossier, actor):
    if dossier.amount <= 0:
        raise ValidationError({"amount": "金额必须大于 0 才能报送。"})


FLOW = Workflow(
    [
        Transition("submit", frozenset({S.DRAFT, S.RETURNED}), S.SUBMITTED, "dossier.submit", "报送", must_have_amount),
        Transition("return", frozenset({S.SUBMITTED}), S.RETURNED, "dossier.approve", "退回", comment_required=True),
        Transition("approve", frozenset({S.SUBMITTED}), S.APPROVED, "dossier.approve", "批复"),
    ]
)


@pytest.fixture
def dossier(world):
    return Dossier.objects.create(organization=world.edu_unit, title="智慧校园建设", amount=100)


def test_submit_then_approve_records_each_step(world, dossier):
    FLOW.apply(dossier, name="submit", actor=world.edu_approver, comment="请审核")
    FLOW.apply(dossier, name="approve", actor=world.perf_admin)
    dossier.refresh_from_db()
    assert dossier.status == S.APPROVED
    steps = [
        (e.actor_name, e.changes["status"]["from"], e.changes["status"]["to"], e.comment) for e in FLOW.history(dossier)
    ]
    assert steps == [("edu_approver", "draft", "submitted", "请审核"), ("perf_admin", "submitted", "approved", "")]


def test_role_without_the_action_is_refused_and_nothing_changes(world, dossier):
    with pytest.raises(PermissionDenied):
        FLOW.apply(dossier, name="submit", actor=world.edu_filler)
    with pytest.raises(PermissionDenied):  # right role, other department
        FLOW.apply(dossier, name="submit", actor=world.shinan_finance)
    dossier.refresh_from_db()
    assert dossier.status == S.DRAFT
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.TRANSITION).exists()


def test_illegal_transition_names_the_current_state(world, dossier):
    with pytest.raises(ValidationError, match="当前状态为“草稿”，不能执行“批复”"):
        FLOW.apply(dossier, name="approve", actor=world.perf_admin)


def test_double_submit_second_click_fails_cleanly(world, dossier):
    FLOW.apply(dossier, name="submit", actor=world.edu_approver)
    with pytest.raises(ValidationError, match="已报送"):
        FLOW.apply(dossier, name="submit", actor=world.edu_approver)
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.TRANSITION).count() == 1


def test_guard_blocks_with_field_message(world):
    empty = Dossier.objects.create(organization=world.edu, title="空项目", amount=0)
    with pytest.raises(ValidationError) as exc:
        FLOW.apply(empty, name="submit", actor=world.edu_approver)
    assert exc.value.message_dict == {"amount": ["金额必须大于 0 才能报送。"]}
    empty.refresh_from_db()
    assert empty.status == S.DRAFT


def test_return_requires_a_comment(world, dossier):
    FLOW.apply(dossier, name="submit", actor=world.edu_approver)
    with pytest.raises(ValidationError, match="必须填写意见"):
        FLOW.apply(dossier, name="return", actor=world.perf_admin, comment="  ")
    FLOW.apply(dossier, name="return", actor=world.perf_admin, comment="指标不可衡量")
    FLOW.apply(dossier, name="submit", actor=world.edu_approver)
    dossier.refresh_from_db()
    assert dossier.status == S.SUBMITTED


def test_available_lists_only_what_the_user_may_do_now(world, dossier):
    assert [t.name for t in FLOW.available(dossier, world.edu_approver)] == ["submit"]
    assert FLOW.available(dossier, world.perf_admin) == []
    FLOW.apply(dossier, name="submit", actor=world.edu_approver)
    dossier.refresh_from_db()
    assert sorted(t.name for t in FLOW.available(dossier, world.perf_admin)) == ["approve", "return"]


def test_on_commit_hook_runs_after_commit(world, dossier, django_capture_on_commit_callbacks):
    seen = []
    with django_capture_on_commit_callbacks(execute=True):
        FLOW.apply(dossier, name="submit", actor=world.edu_approver, on_commit=[lambda d: seen.append(d.status)])
    assert seen == [S.SUBMITTED]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_two_concurrent_approvals_only_one_wins():
    from tests.conftest import build_world

    world = build_world()
    dossier = Dossier.objects.create(organization=world.edu, title="并发", amount=1, status=S.SUBMITTED)
    barrier = threading.Barrier(2)
    outcomes = []

    def approve():
        from django.db import connection as conn

        barrier.wait()
        try:
            FLOW.apply(dossier, name="approve", actor=world.perf_admin)
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("refused")
        finally:
            conn.close()

    threads = [threading.Thread(target=approve) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused"]
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.TRANSITION).count() == 1
