"""Celery tasks: the periodic sweep (django-celery-beat runs ``reminders.sweep``, schedule editable
in the admin) and e-mail sending with retry (``mail.py``)."""

from celery import shared_task


@shared_task(name="reminders.sweep")
def sweep() -> str:
    from . import services

    return str(services.sweep())


@shared_task(name="reminders.send_email_digests")
def send_email_digests(digest_ids: list[int]) -> dict:
    """Send a batch of daily e-mail digests over one connection; failures retry one by one."""
    from . import mail

    return mail.send_batch(digest_ids)


@shared_task(name="reminders.retry_email_digest")
def retry_email_digest(digest_id: int) -> dict:
    from . import mail

    return mail.send_batch([digest_id])
