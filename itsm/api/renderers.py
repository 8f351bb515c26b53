"""The API's renderers: JSON, and the browsable API for people exploring it signed in.

The browsable API's templates (Django REST framework's) place a few layout rules in
``style`` attributes, which the site's Content-Security-Policy refuses everywhere
(``style-src 'self'``). Its pages alone allow style *attributes* (``style-src-attr``):
no ``<style>`` element, no script, nothing else is widened. Its code highlighting, which
REST framework inlines in a ``<style>``, comes from a stylesheet instead."""

from rest_framework.renderers import BrowsableAPIRenderer as _BrowsableAPIRenderer

#: What the browsable API's pages add to the policy.
BROWSABLE_API_CSP = {"style-src-attr": ["'unsafe-inline'"]}


class BrowsableAPIRenderer(_BrowsableAPIRenderer):
    def get_context(self, *args, **kwargs):
        # The highlighting's CSS comes from static/css/api-code.css
        # (templates/rest_framework/api.html), not an inline <style>.
        context = super().get_context(*args, **kwargs)
        context["code_style"] = None
        return context

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None:
            response._csp_update = {**getattr(response, "_csp_update", {}), **BROWSABLE_API_CSP}
        return super().render(data, accepted_media_type, renderer_context)
