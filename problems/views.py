"""Screens of problem management: the agent's queue, problem page, create form, known
error database and incident trends; the portal's known error pages; and the panels other
pages include (workarounds on an incident, known issues on the portal home). Every write
goes through ``services``."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404 as get_or_404  # a NUL is a 404 too

from catalogue.models import Service
from incidents.models import Incident
from itsm.accounts.decorators import agent_required
from itsm.api.screens import Column, RecordScreens
from itsm.core.views import add_errors, error_text, parse_id

from . import services
from .api.serializers import ProblemSerializer
from .filters import ORDERING_FIELDS, SAVED_VIEWS, ProblemFilterSet
from .forms import (
    CauseForm,
    CreateProblemForm,
    LinkIncidentsForm,
    ProblemForm,
    RatingForm,
    TrendForm,
)
from .models import (
    Cause,
    Dimension,
    Effectiveness,
    KnownErrorDeflection,
    Problem,
    WorkaroundUse,
)
from .workflows import ProblemState


def _problems(user):
    return Problem.objects.visible_to(user).select_related("assigned_to", "assignment_group")


def _back(request, fallback: str) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


# Create ----------------------------------------------------------------------------------------


# Problem page ----------------------------------------------------------------------------------


class ProblemScreens(RecordScreens):
    """The problem's page and what is done on it: the kernel's record screens, and the
    problem's own actions (linked incidents, causes, workarounds used on incidents)."""

    queryset = Problem.objects.select_related("assigned_to", "assignment_group")
    serializer_class = ProblemSerializer
    record_services = services
    edit_form = ProblemForm
    page_template = "problems/detail.html"
    context_object_name = "problem"
    transition_fields = ("resolution_notes", "resolve_incidents")
    comment_messages = (_("Added."), _("Work note added."))
    create_template = "problems/create.html"
    create_form = CreateProblemForm

    filterset_class = ProblemFilterSet
    ordering_fields = ORDERING_FIELDS
    list_template = "problems/queue.html"
    rows_template = "problems/_queue_rows.html"
    rows_name = "problems"
    empty_text = _("No problems match.")
    columns = (
        Column(_("Number"), "number"),
        Column(_("Pri"), "priority"),
        Column(_("Title")),
        Column(_("Risk"), title=_("Impact · probability")),
        Column(_("State"), "state"),
        Column(_("Workaround")),
        Column(_("Group")),
        Column(_("Assignee")),
        Column(_("Opened"), "created_at"),
        Column(_("Updated"), "updated_at"),
    )
    end_user_actions = frozenset({"known_errors"})

    saved_views = SAVED_VIEWS
    default_view = "all_open"

    def list_context(self, params, links=None, **declared):
        context = super().list_context(params, links, **declared)
        context["states"] = ProblemState.choices
        return context

    @action(detail=False, url_path="known-errors", url_name="known-errors")
    def known_errors(self, request):
        """The known error database: staff see every known error with its details; others
        read the portal's list."""
        if not request.user.is_agent:
            return redirect("problems:portal-known-errors")
        queryset = (
            Problem.objects.known_errors_for(request.user)
            .select_related("assigned_to", "assignment_group")
            .prefetch_related("services", "configuration_items")
        )
        context = self.list_context(
            request.GET.copy(),
            queryset=queryset,
            rows_template="problems/_kedb_rows.html",
            empty_text=_("No known errors match."),
            columns=(
                Column(_("Number"), "number"),
                Column(_("Pri"), "priority"),
                Column(_("Known error and workaround")),
                Column(_("Services and CIs")),
                Column(_("Workaround")),
                Column(_("Updated"), "updated_at"),
            ),
        )
        return self.list_response(context, "problems/known_errors.html")

    def page_context(self, record, **extra):
        incidents = list(record.incidents.select_related("assigned_to").order_by("-created_at"))
        extra.setdefault("form", ProblemForm(instance=record))
        extra.setdefault("cause_form", CauseForm())
        extra.setdefault("link_incidents_form", LinkIncidentsForm())
        return super().page_context(
            record,
            causes=record.causes.select_related("created_by"),
            incidents=incidents,
            open_incident_count=sum(1 for incident in incidents if incident.is_open),
            services_list=record.services.all(),
            configuration_items=record.configuration_items.select_related("ci_class"),
            uses=record.workaround_uses.select_related("incident", "used_by", "rated_by"),
            dimensions=Dimension.choices,
            **extra,
        )

    def create_initial(self) -> dict:
        """Raised from an incident (``?incident=INC…``): its title, description, category,
        service, CIs and team, and the incident linked."""
        number = self.request.GET.get("incident", "").strip().upper()
        if not number:
            return {}
        incident = (
            Incident.objects.visible_to(self.request.user)
            .filter(number=number)
            .prefetch_related("configuration_items")
            .first()
        )
        if incident is None:
            messages.error(
                self.request, gettext("There is no incident %(number)s.") % {"number": number}
            )
            return {}
        return {
            "title": incident.title,
            "description": (
                gettext("Raised from %(number)s.") % {"number": incident.number}
                + f"\n\n{incident.description}"
            ).strip(),
            "category": incident.category_id,
            "services": [incident.service_id] if incident.service_id else [],
            "configuration_items": [ci.pk for ci in incident.configuration_items.all()],
            "assignment_group": incident.assignment_group_id,
            "incidents": incident.number,
        }

    def create_data(self) -> dict:
        """The incidents are typed as numbers separated by commas or spaces."""
        data = super().create_data()
        if "incidents" in data:
            data["incidents"] = " ".join(data["incidents"]).replace(",", " ").upper().split()
        return data

    def transition_message(self, record) -> str:
        text = gettext("%(number)s is now %(state)s.") % {
            "number": record.number,
            "state": str(record.state_label).lower(),
        }
        if self.posted_flag("resolve_incidents"):
            count = len(getattr(record, "resolved_incidents", []))
            text += " " + ngettext(
                "Resolved %(count)s linked incident.", "Resolved %(count)s linked incidents.", count
            ) % {"count": count}
        return text

    @action(detail=True, methods=["post"], url_path="incidents", url_name="link-incidents")
    def link_incidents(self, request, number=None):
        problem = self.get_object()
        form = LinkIncidentsForm(request.data)
        if not form.is_valid():
            return self.page(problem, 400, link_incidents_form=form)
        try:
            added = services.link_incidents(problem, request.user, form.cleaned_data["incidents"])
        except ValidationError as error:
            messages.error(request, error_text(error))
            return self.back(problem)
        return self.done(
            problem,
            gettext("Linked %(numbers)s.") % {"numbers": ", ".join(i.number for i in added)}
            if added
            else gettext("Already linked."),
        )

    @action(
        detail=True,
        methods=["post"],
        url_path=r"incidents/(?P<incident>[^/]+)/remove",
        url_name="unlink-incident",
    )
    def unlink_incident(self, request, number=None, incident=None):
        problem = self.get_object()
        target = get_or_404(Incident.objects.visible_to(request.user), number=incident)
        try:
            services.unlink_incident(problem, request.user, target)
        except ValidationError as error:
            messages.error(request, error_text(error))
            return self.back(problem)
        return self.done(problem, gettext("Unlinked %(number)s.") % {"number": target.number})

    @action(detail=True, methods=["post"], url_path="causes", url_name="add-cause")
    def add_cause(self, request, number=None):
        problem = self.get_object()
        form = CauseForm(request.data)
        if form.is_valid():
            try:
                services.add_cause(problem, request.user, form.cleaned_data)
            except ValidationError as error:
                add_errors(form, error)
            else:
                return self.done(problem, gettext("Cause added."))
        return self.page(self.reread(problem), 400, cause_form=form)

    @action(detail=True, methods=["post"], url_path="causes/(?P<pk>[0-9]+)", url_name="edit-cause")
    def edit_cause(self, request, number=None, pk=None):
        """Mark or unmark a cause as the root cause, or remove it."""
        problem = self.get_object()
        cause = get_object_or_404(
            Cause.objects.select_related("problem"), pk=parse_id(pk), problem=problem
        )
        try:
            if request.data.get("action") == "remove":
                services.remove_cause(cause, request.user)
                message = gettext("Cause removed.")
            else:
                root = self.posted_flag("is_root_cause")
                services.update_cause(cause, request.user, {"is_root_cause": root})
                message = gettext("Cause updated.")
        except ValidationError as error:
            messages.error(request, error_text(error))
            return self.back(problem)
        return self.done(problem, message)

    @action(detail=True, methods=["post"], url_path="use-workaround", url_name="use-workaround")
    def use_workaround(self, request, number=None):
        """From the incident page's panel: the problem's workaround used on the incident
        (back to the incident)."""
        problem = self.get_object()
        incident = get_or_404(
            Incident.objects.visible_to(request.user), number=request.data.get("incident", "")
        )
        back = _back(request, reverse("incidents:detail", args=[incident.number]))
        try:
            _, created = services.use_workaround(problem, incident, request.user)
        except ValidationError as error:
            messages.error(request, error_text(error))
        else:
            if created:
                messages.success(
                    request,
                    gettext("Workaround of %(problem)s applied to %(incident)s.")
                    % {"problem": problem.number, "incident": incident.number},
                )
            else:
                messages.info(
                    request,
                    gettext("The workaround was already used on %(number)s.")
                    % {"number": incident.number},
                )
        return redirect(back)


@agent_required
@require_POST
def rate_workaround(request, pk):
    use = get_object_or_404(
        WorkaroundUse.objects.select_related("problem", "incident").filter(
            problem__in=Problem.objects.visible_to(request.user)
        ),
        pk=pk,
    )
    back = _back(request, reverse("problems:detail", args=[use.problem.number]))
    form = RatingForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Rate the workaround from 1 to 5."))
        return redirect(back)
    try:
        services.rate_workaround(
            use, request.user, form.cleaned_data["effectiveness"], form.cleaned_data["note"]
        )
    except PermissionDenied:
        return render(request, "403.html", status=403)
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, _("Thanks: the rating is recorded."))
    return redirect(back)


# Known error database ----------------------------------------------------------------------------


@login_required
def portal_known_errors(request):
    queryset = Problem.objects.public_known_errors().only(
        "number", "title", "workaround", "created_at"
    )
    search = request.GET.get("q", "").strip()
    if search:
        from itsm.core.search import search as full_text

        hits = full_text(request.user, search, kinds=["known_errors"], limit=50)
        queryset = queryset.filter(pk__in=[h.obj.pk for h in hits])
    rows = list(queryset.order_by("-known_error_at", "-pk")[:100])
    return render(request, "problems/portal_known_errors.html", {"known_errors": rows, "q": search})


@login_required
def portal_known_error(request, number):
    """An end user's view of a published known error: its title, state, when it was
    identified, the (live) services it affects and the workaround; nothing internal. Opened
    from a suggestion while reporting (``?from=report&q=``), it asks whether the
    workaround solved it, and offers to go on with the report otherwise."""
    services_shown = Prefetch(
        "services",
        queryset=Service.objects.filter(status=Service.Status.LIVE).only("name"),
        to_attr="services_shown",
    )
    problem = get_or_404(
        Problem.objects.public_known_errors()
        .only("number", "title", "workaround", "state", "known_error_at")
        .prefetch_related(services_shown),
        number=number,
    )
    query = request.GET.get("q", "").replace("\x00", "")[:200]
    since = timezone.now() - KnownErrorDeflection.WINDOW
    return render(
        request,
        "problems/portal_known_error.html",
        {
            "known_error": problem,
            "from_report": request.GET.get("from") == "report",
            "query": query,
            "continue_url": reverse("incidents:portal-report")
            + "?"
            + urlencode({"title": query or problem.title}),
            "solved": problem.deflections.filter(user=request.user, created_at__gte=since)
            .only("created_at")
            .first(),
        },
    )


@login_required
@require_POST
def portal_known_error_solved(request, number):
    """ "This solved it": the known error's workaround answered the person's issue (counted
    once per person and day); thanks, and back to where they came from."""
    problem = get_or_404(Problem.objects.public_known_errors().only("pk", "number"), number=number)
    try:
        _use, counted = services.workaround_solved_it(
            problem, request.user, request.POST.get("q", "")
        )
    except PermissionDenied:
        raise Http404 from None
    if counted:
        messages.success(request, _("Glad it helped! Thanks for letting us know."))
    else:
        messages.info(request, _("You have already told us this solved it. Thanks!"))
    if request.POST.get("from") == "report":
        return redirect("portal-home")
    return redirect("problems:portal-known-error", number=problem.number)


# Trends --------------------------------------------------------------------------------------------


@agent_required
def trends(request):
    form = TrendForm(request.GET or None)
    groups, errors = [], {}
    threshold, days = services.DEFAULT_THRESHOLD, services.DEFAULT_DAYS
    if form.is_bound and not form.is_valid():
        errors = form.errors
    else:
        data = form.cleaned_data if form.is_bound else {}
        threshold = data.get("threshold") or threshold
        days = data.get("days") or days
        groups = services.incident_trends(threshold, days, user=request.user)
    context = {
        "form": form,
        "groups": groups,
        "errors": errors,
        "threshold": threshold,
        "days": days,
    }
    return render(request, "problems/trends.html", context, status=400 if errors else 200)


@agent_required
@require_POST
def raise_problem(request):
    try:
        problem = services.raise_from_trend(
            request.user,
            request.POST.get("dimension", ""),
            request.POST.get("key", ""),
            request.POST.get("days") or None,
        )
    except ValidationError as error:
        messages.error(request, error_text(error))
        return redirect(reverse("problems:trends"))
    count = problem.incidents.count()
    messages.success(
        request,
        ngettext(
            "%(number)s raised with %(count)s incident.",
            "%(number)s raised with %(count)s incidents.",
            count,
        )
        % {"number": problem.number, "count": count},
    )
    return redirect("problems:detail", number=problem.number)


# Panels other pages include ---------------------------------------------------------------------


def incident_panel(request, incident):
    """On the agent's incident page: its problems, and known errors whose workaround may
    help (linked ones, same CI/service/category, similar title), each usable in one click."""
    if request is None or not request.user.is_agent:
        return None
    problems, known = services.incident_problems(incident, request.user)
    # One entry per problem: a linked known error shows its workaround in its own entry.
    rows = {row["problem"].pk: row for row in known}
    entries = [{**rows.pop(p.pk, {"problem": p}), "linked": True} for p in problems]
    entries += [row for row in known if row["problem"].pk in rows]
    return {
        "entries": entries,
        "effectiveness": Effectiveness.choices,
        "next": request.get_full_path(),
    }


def portal_incident_panel(request, incident):
    """On the end user's incident page: the published workarounds of known errors linked to
    it (title and workaround only)."""
    if request is None:
        return None
    rows = list(
        Problem.objects.public_known_errors()
        .filter(incidents=incident)
        .only("number", "title", "workaround")
        .order_by("-known_error_at")
    )
    return {"known_errors": rows} if rows else None


def known_issues_panel(request) -> dict:
    """On the portal home: the latest published known errors."""
    rows = list(
        Problem.objects.public_known_errors()
        .only("number", "title", "workaround")
        .order_by("-known_error_at", "-pk")[:5]
    )
    return {"known_issues": rows}
