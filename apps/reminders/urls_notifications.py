"""The notification centre (/notifications/): every signed-in person's own reminders."""

app_name = "notifications"
urlpatterns: list = []
