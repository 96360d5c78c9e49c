"""Open work with a due date, for the reminder sweep (``apps.reminders.sources``)."""
