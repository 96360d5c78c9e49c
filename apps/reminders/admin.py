from django.contrib import admin

from .models import ChannelPreference, EmailDigest, Notification, Reminder, ReminderRule, SweepRun


@admin.register(ReminderRule)
class ReminderRuleAdmin(admin.ModelAdmin):
    list_display = ["organization", "enabled", "days_before", "on_due_day", "escalate_department_after",
                    "escalate_finance_after", "stop_after"]  # fmt: skip


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ["title", "recipient", "step", "stage", "due_on", "reason", "created_at"]
    list_filter = ["reason", "step", "region"]
    raw_id_fields = ["recipient", "organization", "notification", "email_digest"]


@admin.register(EmailDigest)
class EmailDigestAdmin(admin.ModelAdmin):
    list_display = ["recipient", "day", "address", "status", "attempts", "sent_at"]
    list_filter = ["status"]
    raw_id_fields = ["recipient"]


admin.site.register(Notification)
admin.site.register(ChannelPreference)
admin.site.register(SweepRun)
