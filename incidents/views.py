"""Screens of incident management: the agent's queue and incident page, and the portal's
pages for reporting and following an issue. Every write goes through ``services``."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from itsm.accounts.decorators import agent_required
from itsm.core import services as core
from itsm.core.models import Attachment, RecordLink
from itsm.core.pagination import paginate
from itsm.core.services import StaleVersion
from itsm.core.views import (
    add_errors,
    is_htmx,
    link_record,
    posted_version,
    query_without,
    unlink_record,
)
from practices.service_desk import services as saved_views
from practices.service_level.queries import sla_timers_prefetch

from . import services
from .filters import ORDERING_FIELDS, SAVED_VIEWS, IncidentFilterSet
from .forms import (
    SUGGEST_WHILE_TYPING,
    AttachmentForm,
    BulkUpdateForm,
    CommentForm,
    IncidentForm,
    ReportIssueForm,
    TransitionForm,
)
from .models import Incident, OnHoldReason, ResolutionCode
from .workflows import IncidentState

QUEUE_PAGE_SIZE = 50


def _incidents(user):
    """What the queue shows by name is joined; nothing more (see the API viewset)."""
    return Incident.objects.visible_to(user).select_related(
        "caller", "assigned_to", "assignment_group"
    )


def _get(user, number) -> Incident:
    return get_object_or_404(_incidents(user).select_related("parent"), number=number)


# Agent workspace --------------------------------------------------------------------------


@agent_required
def queue(request):
    params = request.GET.copy()
    view_key = params.get("view", "")
    my_views = list(saved_views.views_of(request.user, "incidents"))
    saved = next((v for v in my_views if str(v.pk) == params.get("saved")), None)
    if view_key in SAVED_VIEWS or saved is not None:
        preset = QueryDict(saved.query, mutable=True) if saved else QueryDict(mutable=True)
        if not saved:
            preset.update(SAVED_VIEWS[view_key][1])
        for key in ("ordering", "cursor", "search"):
            if key in params:
                preset[key] = params[key]
        params = preset
    incidents = _incidents(request.user).prefetch_related(sla_timers_prefetch())
    filterset = IncidentFilterSet(params, queryset=incidents, request=request)
    ordering = params.get("ordering") or "-created_at"
    if ordering.lstrip("-") not in ORDERING_FIELDS:
        ordering = "-created_at"
    if filterset.is_valid():
        queryset = filterset.qs.order_by(ordering)
        jump = _exact_number(params)
        if jump and not is_htmx(request) and queryset.filter(number=jump).exists():
            # The top search "goes to" an incident when given its exact number.
            return redirect("incidents:detail", number=jump)
    else:
        queryset = Incident.objects.none()
    try:
        rows, next_cursor = paginate(queryset, params.get("cursor"), QUEUE_PAGE_SIZE)
    except ValidationError:
        rows, next_cursor = paginate(queryset, None, QUEUE_PAGE_SIZE)
    next_params = params.copy()
    next_params["cursor"] = next_cursor or ""
    if view_key in SAVED_VIEWS or saved is not None:
        next_params = QueryDict(mutable=True)
        anchor = {"view": view_key} if view_key in SAVED_VIEWS else {"saved": str(saved.pk)}
        next_params.update({**anchor, "ordering": ordering, "cursor": next_cursor or ""})
        if params.get("search"):
            next_params["search"] = params["search"]
    context = {
        "filterset": filterset,
        "incidents": rows,
        "next_query": next_params.urlencode() if next_cursor else "",
        "ordering": ordering,
        "ordering_fields": ORDERING_FIELDS,
        "saved_views": [(key, label) for key, (label, _) in SAVED_VIEWS.items()],
        "current_view": view_key,
        "my_views": my_views,
        "current_saved": saved,
        "current_query": query_without(params, "cursor", "view", "saved"),
        "query_without_ordering": query_without(params, "ordering", "cursor"),
    }
    if is_htmx(request) and request.GET.get("cursor"):
        return render(request, "incidents/_queue_rows.html", context)
    if is_htmx(request):
        return render(request, "incidents/_queue_table.html", context)
    return render(request, "incidents/queue.html", context)


@agent_required
def bulk_update(request):
    """GET: the bulk bar (loaded when an agent first ticks a row). POST: apply it."""
    if request.method != "POST":
        form = BulkUpdateForm(auto_id="bulk_%s")
        return render(request, "incidents/_bulk_bar.html", {"form": form})
    form = BulkUpdateForm(request.POST)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("incidents:queue")
    if not form.is_valid():
        messages.error(
            request,
            "Check the bulk change: "
            + "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items()),
        )
        return redirect(back)
    try:
        updated = services.bulk_update(request.user, request.POST.getlist("numbers"), form.values())
    except ValidationError as error:
        problems = [m for ms in error.message_dict.values() for m in ms]
        messages.error(request, "Nothing was changed. " + " | ".join(problems))
    else:
        messages.success(
            request, f"Updated {len(updated)} incident{'s' if len(updated) != 1 else ''}."
        )
    return redirect(back)


def _exact_number(params: QueryDict) -> str | None:
    """The incident number searched for, when the search is only that (from the top bar)."""
    term = params.get("search", "").strip().upper()
    others = set(params) - {"search"}
    if others or not term.startswith(Incident.NUMBER_PREFIX):
        return None
    return term if term[len(Incident.NUMBER_PREFIX) :].isdigit() else None


@agent_required
def create(request):
    form = IncidentForm(request.POST or None)
    form.fields["title"].widget.attrs.update(SUGGEST_WHILE_TYPING)
    if request.method == "POST" and form.is_valid():
        try:
            incident = services.open_incident(request.user, form.changed_values())
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"{incident.number} logged.")
            return redirect("incidents:detail", number=incident.number)
    return render(
        request, "incidents/create.html", {"form": form}, status=400 if form.errors else 200
    )


def _detail_context(request, incident, **extra):
    transitions = incident.workflow.available(incident, request.user)
    context = {
        "incident": incident,
        "timeline": core.timeline(incident, request.user).reverse(),
        "attachments": core.attachments_of(incident, request.user),
        "links": core.links_of(incident, request.user),
        "link_kinds": RecordLink.Kind.choices,
        "children": incident.children.select_related("assigned_to").order_by("number"),
        "configuration_items": incident.configuration_items.all(),
        "transitions": transitions,
        "form": IncidentForm(instance=incident),
        "comment_form": CommentForm(),
        "transition_form": TransitionForm(),
        "attachment_form": AttachmentForm(),
        "on_hold_reasons": OnHoldReason.choices,
        "resolution_codes": ResolutionCode.choices,
    }
    context.update(extra)
    return context


@agent_required
def detail(request, number):
    incident = get_object_or_404(
        _incidents(request.user).select_related("parent").prefetch_related(sla_timers_prefetch()),
        number=number,
    )
    return render(request, "incidents/detail.html", _detail_context(request, incident))


@agent_required
@require_POST
def update(request, number):
    incident = _get(request.user, number)
    form = IncidentForm(request.POST, instance=_get(request.user, number))
    status = 200
    if form.is_valid():
        try:
            services.update_incident(
                incident, request.user, form.changed_values(), posted_version(request)
            )
        except StaleVersion as stale:
            retry = IncidentForm.after_conflict(form, stale.record)
            context = _detail_context(request, stale.record, form=retry, conflict=True)
            return render(request, "incidents/detail.html", context, status=409)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"{incident.number} saved.")
            return redirect("incidents:detail", number=number)
    status = 400
    incident.refresh_from_db()
    return render(
        request,
        "incidents/detail.html",
        _detail_context(request, incident, form=form),
        status=status,
    )


@agent_required
@require_POST
def transition(request, number):
    incident = _get(request.user, number)
    form = TransitionForm(request.POST)
    if form.is_valid():
        try:
            services.update_incident(incident, request.user, form.values(), posted_version(request))
        except StaleVersion as stale:
            # Keep what the agent typed: the dialog reopens with it on the fresh version.
            context = _detail_context(
                request,
                stale.record,
                conflict=True,
                transition_form=form,
                failed_state=request.POST.get("state"),
            )
            return render(request, "incidents/detail.html", context, status=409)
        except ValidationError as error:
            add_errors(form, error)
        else:
            label = incident.workflow.label(form.cleaned_data["state"])
            messages.success(request, f"{incident.number} is now {label.lower()}.")
            return redirect("incidents:detail", number=number)
    incident = _get(request.user, number)
    return render(
        request,
        "incidents/detail.html",
        _detail_context(
            request, incident, transition_form=form, failed_state=request.POST.get("state")
        ),
        status=400,
    )


@agent_required
@require_POST
def comment(request, number):
    incident = _get(request.user, number)
    form = CommentForm(request.POST)
    if form.is_valid():
        services.comment(
            incident, request.user, form.cleaned_data["body"], form.cleaned_data["internal"]
        )
        kind = "Work note added" if form.cleaned_data["internal"] else "Reply sent to the caller"
        messages.success(request, f"{kind}.")
        return redirect("incidents:detail", number=number)
    return render(
        request,
        "incidents/detail.html",
        _detail_context(request, incident, comment_form=form),
        status=400,
    )


@login_required
@require_POST
def attach(request, number):
    incident = _get(request.user, number)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.attach(
                incident, request.user, form.cleaned_data["file"], form.cleaned_data["internal"]
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, "File attached.")
    if form.errors:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    target = "incidents:detail" if request.user.is_agent else "incidents:portal-detail"
    return redirect(target, number=number)


@agent_required
@require_POST
def link(request, number):
    incident = _get(request.user, number)
    return link_record(request, incident, incident.get_absolute_url())


@agent_required
@require_POST
def unlink(request, number, link_id):
    incident = _get(request.user, number)
    return unlink_record(request, incident, link_id, incident.get_absolute_url())


@login_required
def download(request, pk):
    try:
        attachment = core.attachment_for_download(pk, request.user)
    except Attachment.DoesNotExist:
        raise Http404 from None
    return FileResponse(
        attachment.file.open("rb"), as_attachment=True, filename=attachment.filename
    )


# Portal -----------------------------------------------------------------------------------


@login_required
def portal_report(request):
    # ``?title=`` keeps what was typed when someone comes back from a suggested article.
    form = ReportIssueForm(request.POST or None, initial={"title": request.GET.get("title", "")})
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        try:
            incident = services.open_incident(request.user, data, channel="portal")
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"Thanks, we have logged your issue as {incident.number}.")
            return redirect("incidents:portal-detail", number=incident.number)
    return render(
        request, "incidents/portal_report.html", {"form": form}, status=400 if form.errors else 200
    )


def _portal_context(request, incident, **extra):
    transitions = [
        t
        for t in incident.workflow.available(incident, request.user)
        if _portal_action(t.target, incident)
    ]
    context = {
        "incident": incident,
        "timeline": core.timeline(incident, request.user).exclude(kind="notification"),
        "attachments": core.attachments_of(incident, request.user),
        "transitions": transitions,
        "comment_form": CommentForm(),
        "attachment_form": AttachmentForm(),
    }
    context.update(extra)
    return context


def _portal_action(target, incident) -> bool:
    """What the portal offers: reopen or confirm a resolution, withdraw a new report."""
    if incident.state == IncidentState.RESOLVED:
        return target in (IncidentState.IN_PROGRESS, IncidentState.CLOSED)
    return incident.state == IncidentState.NEW and target == IncidentState.CANCELLED


@login_required
def portal_detail(request, number):
    incident = _get(request.user, number)
    return render(request, "incidents/portal_detail.html", _portal_context(request, incident))


@login_required
@require_POST
def portal_comment(request, number):
    incident = _get(request.user, number)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.comment(incident, request.user, form.cleaned_data["body"], internal=False)
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, "Your comment was added.")
            return redirect("incidents:portal-detail", number=number)
    return render(
        request,
        "incidents/portal_detail.html",
        _portal_context(request, incident, comment_form=form),
        status=400,
    )


@login_required
@require_POST
def portal_transition(request, number):
    incident = _get(request.user, number)
    target = request.POST.get("state", "")
    if not _portal_action(target, incident):
        messages.error(request, "That is not possible for this issue now.")
        return redirect("incidents:portal-detail", number=number)
    data = {"state": target}
    try:
        with transaction.atomic():
            services.update_incident(incident, request.user, data)
            if request.POST.get("body", "").strip():
                services.comment(incident, request.user, request.POST["body"])
    except (ValidationError, PermissionDenied) as error:
        text = "; ".join(m for ms in getattr(error, "message_dict", {}).values() for m in ms)
        messages.error(request, text or "That is not possible for this issue.")
    else:
        done = {
            IncidentState.CLOSED: "Thanks for confirming; the issue is closed.",
            IncidentState.IN_PROGRESS: "The issue is reopened; we will look at it again.",
            IncidentState.CANCELLED: "Your report is withdrawn.",
        }
        messages.success(request, done.get(target, "Done."))
    return redirect("incidents:portal-detail", number=number)
