from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse

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
    return render(request, "service_desk/portal_home.html", {"sections": sections})
