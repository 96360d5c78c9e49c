"""A test e-mail backend that fails on demand: ``locmem`` (messages land in ``mail.outbox``) plus
``SMTPRecipientsRefused`` for chosen addresses, or ``SMTPServerDisconnected`` for the first N messages.

Use the ``flaky_mail`` fixture of the tests that need it; it resets the switches and counters."""

from __future__ import annotations

import threading
import time
from smtplib import SMTPRecipientsRefused, SMTPServerDisconnected

from django.core.mail.backends import locmem


class FlakyBackend(locmem.EmailBackend):
    fail_addresses: set[str] = set()
    fail_first = 0  # the first N messages fail, whatever their address
    delay = 0.0  # seconds per message (to make two senders overlap)
    messages_tried = 0
    connections_opened = 0
    _lock = threading.Lock()

    @classmethod
    def reset(cls) -> None:
        cls.fail_addresses = set()
        cls.fail_first = 0
        cls.delay = 0.0
        cls.messages_tried = 0
        cls.connections_opened = 0

    def open(self):
        with self._lock:
            FlakyBackend.connections_opened += 1
        return True

    def send_messages(self, messages):
        for message in messages:
            with self._lock:
                FlakyBackend.messages_tried += 1
                tried = FlakyBackend.messages_tried
            if self.delay:
                time.sleep(self.delay)
            if tried <= self.fail_first:
                raise SMTPServerDisconnected("Connection unexpectedly closed")
            refused = set(message.to) & self.fail_addresses
            if refused:
                raise SMTPRecipientsRefused(dict.fromkeys(refused, (550, b"5.1.1 Mailbox unavailable")))
        return super().send_messages(messages)
