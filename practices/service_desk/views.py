from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from itsm.accounts.decorators import agent_required

from . import services
from .models import SavedView
from .registry import registry


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


@login_required
def home(request):
    """Agents land in their workspace, everyone else in the portal."""
    if request.user.is_agent and registry.workspace:
        return redirect(reverse(registry.workspace[0].url_name))
    return redirect("portal-home")


@login_required
def portal_home(request):
    sections = []
    for source in registry.portal:
        records = list(source.my_records(request.user)[:50])
        sections.append({"source": source, "records": records})
    panels = [{"template": panel.template, **panel.context(request)} for panel in registry.panels]
    return render(
        request, "service_desk/portal_home.html", {"sections": sections, "panels": panels}
    )


def _back(request, fallback: str = "/"):
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(fallback)


@agent_required
@require_POST
def save_view(request):
    """Save the current filters of a queue as a named view of one's own."""
    list_key = request.POST.get("list_key", "")
    if list_key not in {section.key for section in registry.workspace}:
        raise Http404
    try:
        view = services.save_view(
            request.user, list_key, request.POST.get("name", ""), request.POST.get("query", "")
        )
    except ValidationError as error:
        messages.error(request, " ".join(m for ms in error.message_dict.values() for m in ms))
        return _back(request)
    messages.success(request, f"View “{view.name}” saved.")
    section = next(s for s in registry.workspace if s.key == list_key)
    return redirect(f"{reverse(section.url_name)}?saved={view.pk}")


@agent_required
@require_POST
def delete_view(request, pk: int):
    try:
        services.delete_view(request.user, pk)
    except SavedView.DoesNotExist:
        raise Http404 from None
    messages.success(request, "View deleted.")
    return _back(request)
