"""Configuration finance maintains in the admin: conflict relation types and appraisal items.

Agencies, experts, ties and appraisals are maintained on the registry pages (permission-checked
and audited), so they are shown here read-only.
"""

from django.contrib import admin

from .models import Agency, AgencyAppraisal, AppraisalCriterion, ConflictRelation, Expert


@admin.register(ConflictRelation)
class ConflictRelationAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "sort_order"]
    list_editable = ["is_active", "sort_order"]
    search_fields = ["name"]

    def has_delete_permission(self, request, obj=None):
        # A type already used by a tie is kept (PROTECT); switch it off with 作为回避情形 instead.
        return obj is None or not obj.conflicttie_set.exists()


@admin.register(AppraisalCriterion)
class AppraisalCriterionAdmin(admin.ModelAdmin):
    list_display = ["name", "max_points", "is_active", "sort_order"]
    list_editable = ["max_points", "is_active", "sort_order"]
    search_fields = ["name"]

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.appraisalscore_set.exists()


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Agency)
class AgencyAdmin(ReadOnlyAdmin):
    list_display = ["name", "credit_code", "status", "registered_by"]
    list_filter = ["status"]
    search_fields = ["name", "credit_code"]


@admin.register(Expert)
class ExpertAdmin(ReadOnlyAdmin):
    list_display = ["name", "fields", "employer", "status"]
    list_filter = ["status"]
    search_fields = ["name", "fields"]


@admin.register(AgencyAppraisal)
class AgencyAppraisalAdmin(ReadOnlyAdmin):
    list_display = ["agency", "total", "organization", "appraised_at"]
