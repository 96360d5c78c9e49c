from django.contrib import admin

from .models import LinkageRule


@admin.register(LinkageRule)
class LinkageRuleAdmin(admin.ModelAdmin):
    list_display = ["region", "fiscal_year", "grade", "suggestion", "adjust_percent", "updated_by", "updated_at"]
    list_filter = ["region", "fiscal_year"]
