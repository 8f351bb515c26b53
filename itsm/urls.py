"""The site's URLs: the kernel's own, then each practice app's screens and API, as their
``PracticeConfig`` declare them (``itsm`` names no practice)."""

from django.contrib import admin
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from itsm.core.practices import registry


def favicon(request):
    return redirect(static("favicon.svg"), permanent=True)


urlpatterns = [
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    path("api/v1/", include("itsm.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("sso/", include("itsm.sso.urls")),
    path("me/tokens/", include("itsm.api.token_urls")),
    path("", include("itsm.accounts.urls")),
    *(path("", include(module)) for module in registry.url_modules()),
]

admin.site.site_header = "ITSM administration"
admin.site.site_title = "ITSM administration"
