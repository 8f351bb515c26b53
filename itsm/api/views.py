from django.http import FileResponse, Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import api_view
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.throttling import AnonRateThrottle

from itsm.core import services as core
from itsm.core.models import Attachment

from .parsers import JSONParser


class LoginThrottle(AnonRateThrottle):
    rate = "30/minute"


class TokenView(ObtainAuthToken):
    """Trade a username and password for an API token: ``{"token": "…"}``."""

    throttle_classes = [LoginThrottle]
    parser_classes = [JSONParser, FormParser, MultiPartParser]


@extend_schema(
    responses={(200, "application/octet-stream"): OpenApiResponse(description="The file")}
)
@api_view(["GET"])
def download_attachment(request, pk: int):
    """The file, if you may see the record it is attached to."""
    try:
        attachment = core.attachment_for_download(pk, request.user)
    except Attachment.DoesNotExist:
        raise Http404 from None
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.mime_type or "application/octet-stream",
    )
