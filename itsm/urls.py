from django.contrib import admin
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView


def favicon(request):
    return redirect(static("favicon.svg"), permanent=True)


urlpatterns = [
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    path("api/v1/", include("itsm.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("", include("itsm.accounts.urls")),
    path("", include("practices.service_desk.urls")),
    path("", include("practices.urls")),
    path("", include("incidents.urls")),
    path("", include("problems.urls")),
    path("", include("cmdb.urls")),
    path("", include("catalogue.workspace_urls")),
    path("", include("catalogue.urls")),
    path("", include("practices.service_level.urls")),
    path("", include("practices.assets.urls")),
    path("", include("practices.knowledge.urls")),
]

admin.site.site_header = "ITSM administration"
admin.site.site_title = "ITSM administration"
