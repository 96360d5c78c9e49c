"""Sending the daily e-mail digests (placeholder: written with the e-mail part of issue 7)."""


def send_batch(digest_ids: list[int]) -> dict:
    return {"sent": 0, "failed": 0}
