"""The JavaScript catalogue (``/jsi18n/``): the texts of ``static/js/*.js`` in the active
language (the person's choice, else the browser's: ``itsm.core.i18n``), from
``locale/<lang>/LC_MESSAGES/djangojs.po``, with Django's ``gettext()``, ``ngettext()`` and
``interpolate()`` for the scripts. ``base.html`` loads it before them
(``{% javascript_catalog %}``, ``itsm.core.templatetags.jsi18n``); so do the admin's
pages with a builder (``itsm.core.builders``). Django's catalogue script is plain
functions: no eval, so it runs under the Content-Security-Policy.

Only our own apps' catalogues (and ``LOCALE_PATHS``) are read, not third-party ones (the
admin's own JavaScript texts come from ``admin:jsi18n``). Rendering reads the ``.mo``
files, so the script is made once per language and kept in the cache; the page asks for
it with its language and the catalogues' version in the URL (``?l=de&v=…``), which a
browser may keep for a day: another language or new translations are another URL. The
ETag names the language too, so even a plain ``/jsi18n/`` is never answered from another
language's copy."""

import hashlib
from functools import cache as once
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.urls import path
from django.utils.translation import get_language
from django.views.decorators.cache import cache_control
from django.views.decorators.http import condition
from django.views.i18n import JavaScriptCatalog

#: The top-level packages of our own apps (the kernel and the practices).
OWN_PACKAGES = ("itsm", "practices", "catalogue", "cmdb", "incidents", "problems", "changes")
CACHE_SECONDS = 24 * 3600
CONTENT_TYPE = 'text/javascript; charset="utf-8"'


def own_apps() -> list[str]:
    return [a.name for a in apps.get_app_configs() if a.name.split(".")[0] in OWN_PACKAGES]


@once
def version() -> str:
    """Names the compiled JavaScript catalogues this process serves (they are read once
    per language and process): their sizes and times, so every process of a deployment
    agrees on it and new translations make new URLs."""
    seen = []
    for directory in map(Path, settings.LOCALE_PATHS):
        for mo in sorted(directory.glob("*/LC_MESSAGES/djangojs.mo")):
            stat = mo.stat()
            seen.append(f"{mo.parent.parent.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("|".join(seen).encode()).hexdigest()[:12]


def _etag(request) -> str:
    return f"{get_language()}-{version()}"


@cache_control(private=True, max_age=CACHE_SECONDS)
@condition(etag_func=_etag)
def javascript_catalog(request):
    key = f"jsi18n:{get_language()}:{version()}"
    body = cache.get(key)
    if body is None:
        body = JavaScriptCatalog.as_view(packages=own_apps())(request).content
        cache.set(key, body, CACHE_SECONDS)
    return HttpResponse(body, content_type=CONTENT_TYPE)


urlpatterns = [path("jsi18n/", javascript_catalog, name="javascript-catalog")]
