"""The site's URLs: the kernel's own, then each practice app's screens and API, as their
``PracticeConfig`` declare them (``itsm`` names no practice)."""

from django.contrib import admin
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path

from itsm.api.docs import DocsView, SchemaView
from itsm.core.practices import registry


def favicon(request):
    return redirect(static("favicon.svg"), permanent=True)


urlpatterns = [
    path("favicon.ico", favicon),
    path("", include("itsm.core.jsi18n")),  # /jsi18n/: the JavaScript catalogue (djangojs)
    path("admin/", admin.site.urls),
    path("api/v1/", include("itsm.api.urls")),
    # Signed-in people only unless API_DOCS_PUBLIC (itsm.api.docs).
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", DocsView.as_view(url_name="schema"), name="api-docs"),
    path("sso/", include("itsm.sso.urls")),
    path("me/tokens/", include("itsm.api.token_urls")),
    path("", include("itsm.accounts.urls")),
    path("", include("itsm.privacy.urls")),
    *(path("", include(module)) for module in registry.url_modules()),
]

admin.site.site_header = "ITSM administration"
admin.site.site_title = "ITSM administration"
