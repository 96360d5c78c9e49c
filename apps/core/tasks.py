from celery import shared_task
from django.db import connection


@shared_task
def ping() -> dict:
    """A round trip through broker, worker, database and result backend (health and CI checks)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        value = cursor.fetchone()[0]
    return {"pong": True, "database": value == 1}
