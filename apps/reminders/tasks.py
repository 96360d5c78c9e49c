"""Celery tasks: the periodic sweep (django-celery-beat runs ``reminders.sweep``, schedule editable
in the admin) and e-mail sending with retry (``mail.py``).

The sending tasks have a time limit below ``mail.STUCK_AFTER``: a batch still running when the
sweep task's recovery looks at it has been stopped, so recovery never takes digests from a live
sender (``mail.send_batch`` also checks each digest is still its own right before sending)."""

from celery import shared_task

from .mail import SEND_HARD_LIMIT, SEND_SOFT_LIMIT


@shared_task(name="reminders.sweep")
def sweep() -> str:
    from . import services

    return str(services.sweep_round())


@shared_task(name="reminders.send_email_digests", soft_time_limit=SEND_SOFT_LIMIT, time_limit=SEND_HARD_LIMIT)
def send_email_digests(digest_ids: list[int]) -> dict:
    """Send a batch of daily e-mail digests over one connection; failures retry one by one."""
    from . import mail

    return mail.send_batch(digest_ids)


@shared_task(name="reminders.retry_email_digest", soft_time_limit=SEND_SOFT_LIMIT, time_limit=SEND_HARD_LIMIT)
def retry_email_digest(digest_id: int) -> dict:
    """One digest's retry (scheduled with a countdown by ``mail``); early or duplicate runs send nothing."""
    from . import mail

    return mail.send_batch([digest_id])
