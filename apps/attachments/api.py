"""Attachment download for API clients (token or session): the same visibility rule as the page."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from apps.core.api import FileDownloadNegotiation

from .views import file_response, visible_attachment


class AttachmentDownloadView(APIView):
    """下载证明材料附件（须能查看其所属记录；否则 404）。"""

    permission_classes = [IsAuthenticated]
    content_negotiation_class = FileDownloadNegotiation

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request, pk: int):
        attachment, _parent = visible_attachment(request.user, pk)
        return file_response(attachment)
