"""``{% javascript_catalog %}``: the script tag of the JavaScript catalogue (``/jsi18n/``,
``itsm.core.jsi18n``) with the page's nonce, before the page's own scripts."""

from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import get_language

from itsm.core.jsi18n import version

register = template.Library()


def catalogue_url() -> str:
    """The catalogue's URL for the active language: one per language and version, so that
    a browser may keep it."""
    return f"{reverse('javascript-catalog')}?{urlencode({'l': get_language(), 'v': version()})}"


@register.simple_tag(takes_context=True)
def javascript_catalog(context):
    request = context.get("request")
    # django-csp's nonce is lazy (and false until read): str() makes it, and puts it in the
    # page's policy. Without the middleware (a test's bare request) 'self' lets it run.
    nonce = getattr(request, "csp_nonce", None)
    if nonce is not None:
        return format_html('<script src="{}" nonce="{}"></script>', catalogue_url(), str(nonce))
    return format_html('<script src="{}"></script>', catalogue_url())
