"""The audit trail is append-only everywhere: model, queryset, database, pages and API."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from apps.core import audit
from apps.core.models import AuditEvent


@pytest.fixture
def event(world):
    return audit.record(
        audit.Kind.UPDATE, actor=world.perf_admin, obj=world.edu, changes={"name": {"from": "a", "to": "b"}}
    )


def test_record_fills_actor_owner_and_object(world, event):
    assert (event.actor_name, event.organization, event.object_repr) == ("perf_admin", world.edu, "青岛市教育局")
    assert AuditEvent.objects.for_object(world.edu).get() == event


def test_model_refuses_update_and_delete(event):
    event.comment = "篡改"
    with pytest.raises(PermissionDenied):
        event.save()
    with pytest.raises(PermissionDenied):
        event.delete()
    with pytest.raises(PermissionDenied):
        AuditEvent.objects.filter(pk=event.pk).update(comment="篡改")
    with pytest.raises(PermissionDenied):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).comment == ""


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_database_refuses_raw_update_and_delete(event):
    for sql in ["UPDATE core_auditevent SET comment = 'x'", "DELETE FROM core_auditevent"]:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert AuditEvent.objects.get(pk=event.pk).comment == ""


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_api_offers_no_way_to_change_audit_rows(world, login, event, method):
    client = login(world.audit_admin)
    detail = f"/api/v1/audit-events/{event.pk}/"
    target = "/api/v1/audit-events/" if method == "post" else detail
    response = getattr(client, method)(target, {"comment": "篡改"}, content_type="application/json")
    assert response.status_code == 405
    assert AuditEvent.objects.get(pk=event.pk).comment == ""
    assert AuditEvent.objects.exclude(kind=AuditEvent.Kind.LOGIN).count() == 1


def test_audit_page_searches_and_is_read_only(world, login, event):
    audit.record(audit.Kind.LOGIN, actor=world.health_filler)
    client = login(world.audit_admin)
    page = client.get(reverse("core:audit_list"), {"q": "perf_admin"}).content.decode()
    assert "青岛市教育局" in page and "health_filler" not in page
    kinds = client.get(reverse("core:audit_list"), {"kind": "login"}).content.decode()
    assert "health_filler" in kinds and "perf_admin" not in kinds
    assert client.post(reverse("core:audit_list")).status_code == 405


def test_audit_page_bad_date_range_says_so(world, login):
    page = (
        login(world.audit_admin)
        .get(reverse("core:audit_list"), {"date_from": "2026-12-01", "date_to": "2026-01-01"})
        .content.decode()
    )
    assert "截止日期不能早于起始日期" in page


def test_auditor_reads_only_its_region(world, login):
    audit.record(audit.Kind.UPDATE, actor=world.perf_admin, obj=world.edu)
    audit.record(audit.Kind.UPDATE, actor=world.shinan_finance, obj=world.shinan_edu)
    rows = login(world.auditor).get("/api/v1/audit-events/", {"kind": "update"}).json()["results"]
    assert {r["organization_name"] for r in rows} == {"青岛市教育局"}


@pytest.mark.parametrize("persona", ["sysadmin", "security_admin", "perf_admin", "edu_filler", "npc_liaison"])
def test_other_roles_cannot_read_the_audit_trail(world, login, persona, event):
    client = login(getattr(world, persona))
    assert client.get(reverse("core:audit_list")).status_code == 403
    assert client.get("/api/v1/audit-events/").status_code == 403
    assert client.get(f"/api/v1/audit-events/{event.pk}/").status_code == 403
