"""``/api/v1/``: the kernel's endpoints, then every practice app's API module (as its
``PracticeConfig`` declares it); the API root lists each router's endpoints."""

from importlib import import_module

from django.urls import NoReverseMatch, include, path
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.routers import SimpleRouter

from itsm.core.practices import registry

from .lookups import ContactCardView, LookupView
from .search import SearchView, SuggestionsView
from .teams import TeamViewSet
from .views import ApiTokenViewSet, TokenView, download_attachment

router = SimpleRouter()
router.register("teams", TeamViewSet, basename="team")
router.register("tokens", ApiTokenViewSet, basename="api-token-own")


def _routers():
    yield router
    for module in registry.api_url_modules():
        practice_router = getattr(import_module(module), "router", None)
        if practice_router is not None:
            yield practice_router


def endpoints(request, format=None) -> dict:
    """Every list endpoint of the API, by its prefix."""
    found = {}
    for each in _routers():
        for prefix, _viewset, basename in each.registry:
            try:
                found[prefix] = reverse(f"{basename}-list", request=request, format=format)
            except NoReverseMatch:  # a router entry without a list
                continue
    return found


@extend_schema(exclude=True)
@api_view(["GET"])
def api_root(request, format=None):
    return Response(
        {
            **endpoints(request, format),
            "search": reverse("api-search", request=request, format=format),
            "schema": request.build_absolute_uri("/api/schema/"),
            "docs": request.build_absolute_uri("/api/docs/"),
        }
    )


urlpatterns = [
    path("", api_root, name="api-root"),
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("search/", SearchView.as_view(), name="api-search"),
    path("search/suggestions/", SuggestionsView.as_view(), name="api-search-suggestions"),
    path("attachments/<int:pk>/download/", download_attachment, name="api-attachment-download"),
    path("lookups/people/<str:username>/card/", ContactCardView.as_view(), name="contact-card"),
    path("lookups/<slug:kind>/", LookupView.as_view(), name="lookup"),
    path("", include(router.urls)),
    path("", include("itsm.audit.api")),  # the audit log, administrators only
    *(path("", include(module)) for module in registry.api_url_modules()),
]
