"""The OpenAPI schema and its Swagger UI, for signed-in people unless ``API_DOCS_PUBLIC``.

The docs page is drf-spectacular's split view: the page loads its start-up script from the
same URL (``?script``) instead of carrying it inline, so it runs under the site's
Content-Security-Policy; the page's own template is ``templates/drf_spectacular/``.
"""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import BasePermission


def docs_public() -> bool:
    return bool(getattr(settings, "API_DOCS_PUBLIC", False))


class SchemaAccess(BasePermission):
    """Anyone when the docs are public (by setting), else signed-in people only."""

    def has_permission(self, request, view):
        return docs_public() or bool(request.user and request.user.is_authenticated)


class SchemaView(SpectacularAPIView):
    permission_classes = [SchemaAccess]


class DocsView(SpectacularSwaggerSplitView):
    """The Swagger UI; a visitor who has not signed in is sent to the sign-in page."""

    permission_classes = []

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        if not docs_public() and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return super().get(request, *args, **kwargs)
