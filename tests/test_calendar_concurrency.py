"""Two writers of the same calendar steps at the same moment, against PostgreSQL (threads with their
own connections): setting a step nobody has set yet creates it once — the second request waits and
changes it (200, one "create" audit row, no IntegrityError); two copies to the districts add each
missing step once (the second counts nothing added, no "已经存在")."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from django.db import connection, transaction
from django.test import Client

from apps.core.models import AuditEvent
from apps.orgs import services
from apps.orgs.models import FiscalYear, WorkCalendar
from tests.conftest import build_world

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"),
]
URL = "/api/v1/calendar/"


@pytest.fixture
def cast():
    world = build_world()
    world.year = FiscalYear.objects.create(year=2026, is_current=True)
    return world


def in_thread(fn) -> tuple[threading.Thread, list]:
    """Run ``fn`` in a thread with its own database connection; its result (or exception) lands in
    the returned list."""
    found: list = []

    def run():
        from django.db import connection as own

        try:
            found.append(fn())
        except Exception as exc:  # noqa: BLE001 — the test reports it
            found.append(exc)
        finally:
            own.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, found


def first_holds_open(first, second):
    """``first`` runs in a transaction left open until ``second`` has been sent and is waiting on it;
    then the first commits and the second finishes. Returns both results."""
    written, release = threading.Event(), threading.Event()

    def hold():
        with transaction.atomic():
            result = first()
            written.set()
            release.wait(20)
        return result

    holder, held = in_thread(hold)
    assert written.wait(20), held

    def after():
        return second()

    other, answered = in_thread(after)
    time.sleep(1)  # the second request reaches the row the first has not committed yet
    release.set()
    holder.join(30)
    other.join(30)
    return held[0], answered[0]


def api(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def creates(entry_pk) -> int:
    return AuditEvent.objects.filter(object_id=str(entry_pk), kind=AuditEvent.Kind.CREATE).count()


def test_a_step_set_twice_at_once_is_created_once_and_then_changed(cast):
    def set_by_service():
        services.calendar_entry_set(
            actor=cast.perf_admin, organization=cast.city_finance, fiscal_year=cast.year, step="monitoring",
            due_on=date(2026, 8, 15), starts_on=date(2026, 8, 1),
        )  # fmt: skip
        return WorkCalendar.objects.get()

    def set_by_api():
        return api(cast.perf_admin).post(URL, {"step": "monitoring", "due_on": "2026-08-20"}, "application/json")

    entry, response = first_holds_open(set_by_service, set_by_api)
    assert not isinstance(response, Exception), response
    assert response.status_code == 200, response.content.decode()
    assert response.json()["id"] == entry.pk and response.json()["due_on"] == "2026-08-20"
    assert response.json()["starts_on"] == "2026-08-01"  # not sent: kept
    stored = WorkCalendar.objects.get()
    assert (stored.due_on, stored.starts_on) == (date(2026, 8, 20), date(2026, 8, 1))
    assert creates(entry.pk) == 1
    assert AuditEvent.objects.filter(object_id=str(entry.pk), kind=AuditEvent.Kind.UPDATE).count() == 1


def test_many_requests_at_once_answer_one_201_and_the_rest_200(cast):
    barrier = threading.Barrier(4)

    def post(i):
        def run():
            client = api(cast.perf_admin)
            barrier.wait(20)
            return client.post(URL, {"step": "disclosure", "due_on": f"2026-10-{20 + i}"}, "application/json")

        return in_thread(run)

    runs = [post(i) for i in range(4)]
    for thread, _ in runs:
        thread.join(60)
    answers = [found[0] for _, found in runs]
    assert not [a for a in answers if isinstance(a, Exception)], answers
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201], [a.content.decode() for a in answers]
    assert creates(WorkCalendar.objects.get().pk) == 1


def test_two_copies_at_once_add_each_missing_step_once(cast):
    for step, due in [("target_filing", date(2025, 10, 31)), ("monitoring", date(2026, 8, 15))]:
        WorkCalendar.objects.create(organization=cast.city_finance, fiscal_year=cast.year, step=step, due_on=due)

    def copy_by_service():
        return services.calendar_copy(actor=cast.perf_admin, fiscal_year=cast.year, regions=[cast.shinan])

    def copy_by_api():
        body = {"fiscal_year": 2026, "regions": [cast.shinan.pk], "overwrite": True}
        return api(cast.perf_admin).post(f"{URL}copy/", body, "application/json")

    first, response = first_holds_open(copy_by_service, copy_by_api)
    assert (first.added, first.overwritten) == (2, 0)
    assert not isinstance(response, Exception), response
    assert response.status_code == 200, response.content.decode()
    assert response.json() | {"message": ""} == {"regions": 1, "added": 0, "overwritten": 0, "message": ""}
    assert WorkCalendar.objects.filter(organization=cast.shinan_finance_org).count() == 2
    copies = AuditEvent.objects.filter(object_id=str(cast.shinan_finance_org.pk), comment__startswith="从市本级复制")
    assert copies.count() == 1
