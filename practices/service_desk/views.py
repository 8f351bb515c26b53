from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from itsm.accounts.decorators import agent_required
from itsm.accounts.views import SignInView
from itsm.core import search
from itsm.core.practices import registry

from . import portal, services, work
from .models import SavedView


class LoginView(SignInView):
    """The password, then the second factor for those who have one (itsm.accounts)."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True


@login_required
def home(request):
    """Agents land in their workspace, everyone else in the portal."""
    if request.user.is_agent:
        return redirect("work-home")
    return redirect("portal-home")


@login_required
def portal_home(request):
    """What waits for the employee, their tickets, and the practices' blocks."""
    return render(request, "service_desk/portal_home.html", portal.home_context(request))


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
    messages.success(request, gettext("View “%(name)s” saved.") % {"name": view.name})
    section = next(s for s in registry.workspace if s.key == list_key)
    return redirect(f"{reverse(section.url_name)}?saved={view.pk}")


@agent_required
@require_POST
def delete_view(request, pk: int):
    try:
        services.delete_view(request.user, pk)
    except SavedView.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("View deleted."))
    return _back(request)


@agent_required
def search_page(request):
    """Everything staff may search, ranked, grouped by kind; a reference typed whole (a
    record number, an asset tag) opens that row."""
    text = request.GET.get("q", "").strip()[: search.MAX_QUERY_LENGTH].replace("\x00", "")
    kinds = {s.key: s.label for s in search.registry.sources}
    kind = request.GET.get("kind", "")
    hits = []
    if search.words(text):
        if kind not in kinds:
            exact = search.lookup(request.user, text)
            if exact is not None:
                return redirect(exact.url)
        hits = search.search(request.user, text, kinds=[kind] if kind in kinds else None)
    groups: dict[str, list] = {}
    for hit in hits:
        groups.setdefault(hit.label, []).append(hit)
    return render(
        request,
        "service_desk/search.html",
        {"q": text, "kind": kind, "kinds": kinds, "groups": groups, "count": len(hits)},
    )


@agent_required
def quick_search(request):
    """The header search's drop-down while an agent types (htmx): the row a reference
    names first, then the best few of every kind, each with its state."""
    text = request.GET.get("q", "").strip()[: search.MAX_QUERY_LENGTH].replace("\x00", "")
    exact, hits = search.quick(request.user, text) if len(text) >= 2 else (None, [])
    return render(
        request,
        "service_desk/_quick_search.html",
        {"q": text, "exact": exact, "hits": hits},
    )


@agent_required
def work_home(request):
    """The agent's home: their work and their teams' across every record type, and what
    the practices add (targets breaching soon, approvals waiting)."""
    return render(request, "service_desk/work_home.html", work.context(request))


@login_required
def suggestions(request):
    """A fragment of what may already answer the title being typed (htmx, on the portal's
    report form and the agent's new-incident form). An end user's links say they came
    from reporting, so an article that helps counts as a deflected ticket."""
    text = (request.GET.get("q") or request.GET.get("title") or "").strip()
    hits = search.suggest(request.user, text, limit=5) if len(text) >= 3 else []
    sources = {s.key: s for s in search.registry.get({hit.kind for hit in hits})}
    rows = []
    for hit in hits:
        url = hit.url
        source = sources.get(hit.kind)
        badge = (source.singular if source else "") or hit.label
        if not request.user.is_agent:
            url = f"{url}?{urlencode({'from': 'report', 'q': text})}"
            badge = (source.portal_label if source else "") or badge
        rows.append({"hit": hit, "url": url, "badge": badge})
    return render(
        request,
        "service_desk/_suggestions.html",
        {"rows": rows, "portal": not request.user.is_agent},
    )
