"""A person's own privacy page (``/me/privacy/``): what the platform keeps about them and
one download of it. Only ever the signed-in person's own data: no id is read from the
request."""

from django.contrib.auth.decorators import login_required
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import services


def export_response(person, viewer) -> StreamingHttpResponse:
    """The person's data as one JSON file, streamed."""
    response = StreamingHttpResponse(
        services.export(person, viewer), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{services.export_filename(person)}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def privacy(request):
    base = "workspace/base.html" if request.user.is_agent else "portal/base.html"
    return render(request, "privacy/me.html", {"base_template": base})


@login_required
@require_GET
def download(request):
    return export_response(request.user, request.user)
