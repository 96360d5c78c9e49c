"""Finance's reminder pages (/reminders/): rules, what is scheduled, sent and failed, resend."""

app_name = "reminders"
urlpatterns: list = []
