from rest_framework import serializers

from apps.core.api import ScopedReadOnlyViewSet

from .models import Organization


class OrganizationSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)
    parent_name = serializers.CharField(source="parent.name", read_only=True, default=None)

    class Meta:
        model = Organization
        fields = [
            "id",
            "code",
            "name",
            "short_name",
            "kind",
            "kind_display",
            "region",
            "region_name",
            "parent",
            "parent_name",
            "is_active",
        ]
        read_only_fields = fields


class OrganizationViewSet(ScopedReadOnlyViewSet):
    """Organisations the user may see: own unit, own department and units, region, or all."""

    queryset = Organization.objects.all()
    serializer_class = OrganizationSerializer
    scope_action = "org.view"
    filterset_fields = ["region", "kind", "parent", "is_active"]
    search_fields = ["name", "code", "short_name"]
    ordering_fields = ["code", "name"]

    def optimize(self, queryset):
        return queryset.select_related("region", "parent")


# The calendar API lives in its own module; qdperf/urls.py routes it from here.
from .api_calendar import WorkCalendarSerializer, WorkCalendarViewSet  # noqa: E402, F401
