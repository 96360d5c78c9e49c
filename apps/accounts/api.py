from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import ScopedReadOnlyViewSet

from . import services
from .models import User


class UserSerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True, default=None)
    region = serializers.IntegerField(source="organization.region_id", read_only=True, default=None)
    roles = serializers.SerializerMethodField()
    role_labels = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "real_name",
            "phone",
            "organization",
            "organization_name",
            "region",
            "roles",
            "role_labels",
            "is_active",
            "last_login",
        ]
        read_only_fields = fields

    def get_roles(self, user) -> list[str]:
        return sorted(user.role_codes)


class MeView(APIView):
    """The signed-in user: organisation and roles."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=UserSerializer)
    def get(self, request):
        return Response(UserSerializer(request.user).data)


class UserViewSet(ScopedReadOnlyViewSet):
    """Accounts of the system administrator's region (read-only; changes go through the pages)."""

    queryset = User.objects.all()
    serializer_class = UserSerializer
    scope_action = "user.manage"
    filterset_fields = ["organization", "is_active"]
    search_fields = ["username", "real_name"]

    def optimize(self, queryset):
        return queryset.select_related("organization").prefetch_related("groups").order_by("username")


class TokenObtainView(APIView):
    """Exchange username and password for an API token (subject to the same lock-out as the login page)."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        request=inline_serializer(
            "TokenRequest", {"username": serializers.CharField(), "password": serializers.CharField()}
        ),
        responses=inline_serializer("TokenResponse", {"token": serializers.CharField()}),
    )
    def post(self, request):
        user = authenticate(
            request._request, username=request.data.get("username", ""), password=request.data.get("password", "")
        )
        if user is None:
            raise AuthenticationFailed("用户名或密码不正确。")
        return Response({"token": services.token_issue(user=user).key})
