"""Celery tasks: the periodic sweep (django-celery-beat runs ``reminders.sweep``, schedule editable
in the admin) and e-mail sending with retry (``mail.py``).

The sending tasks have a time limit below ``mail.STUCK_AFTER``: a batch still running when the
sweep task's recovery looks at it has been stopped, so recovery never takes digests from a live
sender (``mail.send_batch`` also checks each digest is still its own right before sending)."""

from celery import shared_task

from .mail import SEND_HARD_LIMIT, SEND_SOFT_LIMIT


@shared_task(name="reminders.sweep")
def sweep() -> str:
    """Put e-mails a dead worker left half-sent back in line, then sweep (which also queues the
    pending e-mails of the last days whose task was lost), then queue due retries."""
    from . import mail, services

    recovered = mail.recover_stuck()
    report = services.sweep()
    retries = mail.queue_due_retries()
    return f"{report}；中断后重新排队 {recovered} 封，到期重试 {retries} 封"


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
