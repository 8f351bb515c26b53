from django.urls import include, path
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.routers import SimpleRouter

from .search import SearchView, SuggestionsView
from .teams import TeamViewSet
from .views import TokenView, download_attachment

router = SimpleRouter()
router.register("teams", TeamViewSet, basename="team")


@extend_schema(exclude=True)
@api_view(["GET"])
def api_root(request, format=None):
    return Response(
        {
            "incidents": reverse("incident-list", request=request, format=format),
            "incident-categories": reverse(
                "incident-category-list", request=request, format=format
            ),
            "teams": reverse("team-list", request=request, format=format),
            "search": reverse("api-search", request=request, format=format),
            "cis": reverse("ci-list", request=request, format=format),
            "ci-classes": reverse("ci-class-list", request=request, format=format),
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
    path("", include(router.urls)),
    path("", include("incidents.api.urls")),
    path("", include("problems.api.urls")),
    path("", include("practices.service_level.api.urls")),
    path("", include("catalogue.api.urls")),
    path("", include("cmdb.api.urls")),
    path("", include("practices.assets.api.urls")),
    path("", include("practices.knowledge.api.urls")),
]
