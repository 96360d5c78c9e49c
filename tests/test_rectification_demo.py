"""The rectification demo: items in every status (one 逾期, one 重新整改), evidence where the unit
submitted, from self-evaluations, a key evaluation and an audit finding; a second run creates 0."""

from django.core.management import call_command

from apps.attachments.models import Attachment
from apps.results.demo_rectification import seed_rectifications
from apps.results.models import Rectification


def test_demo_rectifications(db, client):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    if not Rectification.objects.exists():  # seed_demo does not call this part yet
        assert seed_rectifications() > 0
    assert seed_rectifications() == 0  # a second run creates nothing

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
