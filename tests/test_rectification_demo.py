"""The rectification demo: items in every status (one 逾期, one 重新整改), evidence where the unit
submitted, from self-evaluations, a key evaluation and audit findings; 青岛第二中学's demo account
has its own items to work on; every item was raised weeks before its deadline, and its history
follows in order; a second run creates 0."""

import datetime as dt
from datetime import timedelta

from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.attachments.models import Attachment
from apps.core.models import AuditEvent
from apps.results.demo_rectification import seed_rectifications
from apps.results.models import Rectification


def test_demo_rectifications(db, client):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    if not Rectification.objects.exists():  # seed_demo does not call this part yet
        assert seed_rectifications() > 0
    assert seed_rectifications() == 0  # a second run creates nothing
    assert timezone.datetime is dt.datetime  # the demo clock is put back

    city = Rectification.objects.filter(region__code="370200")
    assert set(city.values_list("status", flat=True)) == {"pending", "in_progress", "verifying", "done"}
    assert set(city.values_list("source", flat=True)) == {"self_evaluation", "key_evaluation", "audit"}
    assert Rectification.objects.overdue().filter(region__code="370200", status="pending").exists()
    assert city.filter(reopen_count=1, status="in_progress").exists()
    assert Rectification.objects.filter(region__code="370202").exists()
    for item in Rectification.objects.filter(status__in=("verifying", "done")):
        assert Attachment.objects.for_object(item).exists(), item
    done = city.filter(status="done").first()
    assert done.verified_by is not None and done.completed_on is not None

    client.force_login(done.created_by)
    page = client.get("/results/rectifications/")
    assert page.status_code == 200 and page.context["counts"]["overdue"] >= 1
    assert client.get(f"/results/rectifications/{done.pk}/").status_code == 200


def test_demo_gives_the_school_account_items_to_fill(db, client):
    """edu_unit_filler (青岛第二中学) has one 待整改 and one 整改中 to work on; 市教育局's filler and
    approver see them; the unit can open the form on both."""
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    seed_rectifications()
    unit = User.objects.get(username="edu_unit_filler")
    own = Rectification.objects.restrict(unit, "rectification.fill").filter(organization=unit.organization)
    assert set(own.values_list("status", flat=True)) >= {"pending", "in_progress"}
    working = own.get(status="in_progress")
    assert working.measures and working.progress_note and not working.is_overdue
    for name in ("edu_filler", "edu_approver"):
        user = User.objects.get(username=name)
        seen = set(Rectification.objects.restrict(user, "rectification.view").values_list("pk", flat=True))
        assert set(own.values_list("pk", flat=True)) <= seen, name
    client.force_login(unit)
    html = client.get(reverse("results:rectification_list")).content.decode()
    assert all(f'data-id="{pk}"' in html for pk in own.values_list("pk", flat=True))
    for item in own:
        assert "fill-form" in client.get(reverse("results:rectification_detail", args=[item.pk])).content.decode()
    home = client.get("/").content.decode()
    assert "填报整改：" in home


def test_demo_items_are_raised_weeks_before_their_deadline_and_audited_then(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    seed_rectifications()
    now = timezone.now()
    items = list(Rectification.objects.order_by("pk"))
    overdue = [i for i in items if i.is_overdue]
    assert overdue, "the demo shows 逾期 items"
    for item in items:
        raised_on = timezone.localdate(item.created_at)
        assert raised_on <= item.deadline - timedelta(days=14), (item.pk, raised_on, item.deadline)
        events = list(AuditEvent.objects.for_object(item).order_by("occurred_at", "id"))
        assert events[0].kind == "create" and abs(events[0].occurred_at - item.created_at) < timedelta(seconds=5)
        assert all(item.created_at - timedelta(seconds=5) <= e.occurred_at <= now for e in events), item.pk
        for evidence in Attachment.objects.for_object(item):
            assert item.created_at <= evidence.uploaded_at <= now
        if item.completed_on:
            assert raised_on < item.completed_on < timezone.localdate()
    for item in overdue:  # raised weeks before the deadline that has since passed
        assert timezone.localdate(item.created_at) <= item.deadline - timedelta(days=28)
    for item in Rectification.objects.filter(key_evaluation__isnull=False):  # never before the result
        completed = AuditEvent.objects.for_object(item.key_evaluation).filter(changes__status__to="completed")
        assert item.created_at >= completed.get().occurred_at
