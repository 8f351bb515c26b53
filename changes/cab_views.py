"""Screens of a change's authorisation: deciding one's approval from the change page, the
CAB meetings list, and the CAB workbench (``/changes/cab/<id>/``: the agenda item by item,
with a timer per item, the change's summary, approve or reject with a comment, defer; the
minutes, edited and sent). Every write goes through ``changes.approvals`` and
``changes.cab``."""

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from itsm.accounts.models import User
from itsm.core.views import error_text

from . import approvals, cab
from .models import AgendaItem, CabMeeting, Change, ChangeApproval
from .templates import is_change_manager


def _agent(request) -> None:
    if not request.user.is_agent:
        raise PermissionDenied


# A change's approval ------------------------------------------------------------------


@login_required
@require_POST
def decide_approval(request, pk: int):
    """Approve or reject one's own approval from the change page."""
    _agent(request)
    approval = get_object_or_404(ChangeApproval.objects.select_related("change"), pk=pk)
    change = approval.change
    if approval.approver_id != request.user.pk:
        raise PermissionDenied
    decision = request.POST.get("decision")
    comment = request.POST.get("comment", "")
    try:
        if decision not in ("approve", "reject"):
            raise ValidationError({"decision": _("Approve or reject.")})
        approvals.decide(approval, request.user, decision == "approve", comment)
    except ValidationError as error:
        approval.refresh_from_db()
        return render(
            request,
            "changes/cab_decision.html",
            {
                "approval": approval,
                "change": change,
                "decision_error": error_text(error),
                "decision_comment": comment,
            },
            status=400,
        )
    done = (
        gettext("%(number)s approved.")
        if decision == "approve"
        else gettext("%(number)s rejected.")
    )
    messages.success(request, done % {"number": change.number})
    return redirect(f"{change.get_absolute_url()}#approvals")


# CAB meetings -------------------------------------------------------------------------


class MeetingForm(forms.Form):
    title = forms.CharField(max_length=200, label=_("Title"))
    starts_at = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), label=_("Starts at")
    )
    ends_at = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), label=_("Ends at")
    )
    location = forms.CharField(max_length=200, required=False, label=_("Location"))
    members = forms.ModelMultipleChoiceField(
        User.objects.filter(is_active=True).exclude(role="end_user").order_by("username"),
        required=False,
        label=_("Members"),
    )
    agenda_from = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label=_("Agenda from")
    )
    agenda_to = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label=_("Agenda to")
    )


@login_required
def meetings(request):
    """The CAB meetings, newest first; change managers plan a new one here."""
    _agent(request)
    manager = is_change_manager(request.user)
    status = 200
    start = timezone.localtime().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    form = MeetingForm(
        initial={
            "starts_at": start,
            "ends_at": start + timedelta(hours=1),
            "agenda_from": start.date(),
            "agenda_to": (start + timedelta(days=7)).date(),
        }
    )
    if request.method == "POST":
        if not manager:
            raise PermissionDenied
        form = MeetingForm(request.POST)
        if form.is_valid():
            try:
                meeting = cab.create_meeting(request.user, form.cleaned_data)
            except ValidationError as error:
                for name, texts in error.message_dict.items():
                    form.add_error(name if name in form.fields else None, texts)
            else:
                added = cab.build_agenda(meeting, request.user)
                messages.success(
                    request,
                    ngettext(
                        "%(meeting)s planned with %(count)s changes on its agenda.",
                        "%(meeting)s planned with %(count)s changes on its agenda.",
                        len(added),
                    )
                    % {"meeting": meeting.title, "count": len(added)},
                )
                return redirect("changes:cab-detail", meeting.pk)
        status = 400
    rows = CabMeeting.objects.select_related("chair").order_by("-starts_at")[:100]
    return render(
        request,
        "changes/cab_list.html",
        {"meetings": rows, "form": form, "may_plan": manager},
        status=status,
    )


def _meeting(pk: int) -> CabMeeting:
    return get_object_or_404(
        CabMeeting.objects.select_related("chair").prefetch_related(
            "members",
            Prefetch(
                "items",
                queryset=AgendaItem.objects.select_related(
                    "change", "change__model", "change__assignment_group", "decided_by"
                ).order_by("order", "pk"),
            ),
        ),
        pk=pk,
    )


@login_required
@require_GET
def workbench(request, pk: int):
    """The CAB workbench: the agenda on the left, the current item (``?item=``) with its
    change's summary, its timer and the board's decision."""
    _agent(request)
    return _workbench(request, pk, request.GET.get("item", ""))


def _workbench(request, pk: int, wanted: str, comment: str = "", status: int = 200):
    meeting = _meeting(pk)
    items = list(meeting.items.all())
    current = next((i for i in items if str(i.pk) == wanted), None)
    if current is None:
        current = next((i for i in items if i.decision == "pending"), items[0] if items else None)
    index = items.index(current) if current is not None else -1
    context = {
        "meeting": meeting,
        "items": items,
        "current": current,
        "previous": items[index - 1] if index > 0 else None,
        "next": items[index + 1] if 0 <= index < len(items) - 1 else None,
        "may_decide": cab.may_decide(meeting, request.user),
        "may_plan": is_change_manager(request.user),
        "members": list(meeting.members.all()),
        "comment": comment,
    }
    if current is not None:
        change = current.change
        context["summary"] = cab.summary(change, request.user)
        if current.started_at:
            context["ends_at"] = current.started_at + timedelta(minutes=current.minutes_allotted)
    return render(request, "changes/cab_detail.html", context, status=status)


def _back(meeting_pk: int, item_pk=None):
    url = reverse("changes:cab-detail", args=[meeting_pk])
    return redirect(f"{url}?item={item_pk}" if item_pk else url)


def _do(request, meeting_pk: int, item_pk, work, done: str):
    try:
        work()
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        if done:
            messages.success(request, done)
    return _back(meeting_pk, item_pk)


@login_required
@require_POST
def build(request, pk: int):
    _agent(request)
    meeting = get_object_or_404(CabMeeting, pk=pk)
    try:
        added = cab.build_agenda(meeting, request.user)
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(
            request,
            ngettext(
                "%(count)s changes added to the agenda.",
                "%(count)s changes added to the agenda.",
                len(added),
            )
            % {"count": len(added)},
        )
    return _back(pk)


@login_required
@require_POST
def add_item(request, pk: int):
    _agent(request)
    meeting = get_object_or_404(CabMeeting, pk=pk)
    number = request.POST.get("change", "").strip().upper()
    change = Change.objects.visible_to(request.user).filter(number=number).first()
    if change is None:
        messages.error(
            request,
            gettext("There is no change %(number)s.")
            % {"number": number or gettext("(none given)")},
        )
        return _back(pk)
    return _do(
        request,
        pk,
        None,
        lambda: cab.add_item(meeting, change, request.user),
        gettext("%(number)s added to the agenda.") % {"number": change.number},
    )


def _item(pk: int, item_pk: int) -> AgendaItem:
    return get_object_or_404(
        AgendaItem.objects.select_related("meeting"), meeting_id=pk, pk=item_pk
    )


@login_required
@require_POST
def remove_item(request, pk: int, item_pk: int):
    _agent(request)
    item = _item(pk, item_pk)
    return _do(request, pk, None, lambda: cab.remove_item(item, request.user), gettext("Removed."))


@login_required
@require_POST
def move_item(request, pk: int, item_pk: int):
    _agent(request)
    item = _item(pk, item_pk)
    step = -1 if request.POST.get("step") == "up" else 1
    return _do(request, pk, item_pk, lambda: cab.move_item(item, request.user, step), "")


@login_required
@require_POST
def start_item(request, pk: int, item_pk: int):
    _agent(request)
    item = _item(pk, item_pk)
    return _do(request, pk, item_pk, lambda: cab.start_item(item, request.user), "")


@login_required
@require_POST
def decide_item(request, pk: int, item_pk: int):
    """The board's decision on the item; a refusal (no comment…) re-renders the workbench
    with a 400 and the comment kept."""
    _agent(request)
    item = _item(pk, item_pk)
    decision = request.POST.get("decision", "")
    comment = request.POST.get("comment", "")
    try:
        cab.decide_item(item, request.user, decision, comment)
    except ValidationError as error:
        messages.error(request, error_text(error))
        return _workbench(request, pk, str(item_pk), comment, status=400)
    following = (
        AgendaItem.objects.filter(meeting_id=pk, decision="pending")
        .order_by("order", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    recorded = {
        "approve": gettext("%(number)s: approve recorded."),
        "reject": gettext("%(number)s: reject recorded."),
    }.get(decision, gettext("%(number)s: defer recorded."))
    messages.success(request, recorded % {"number": item.change.number})
    return _back(pk, following or item_pk)


@login_required
@require_POST
def save_minutes(request, pk: int):
    _agent(request)
    meeting = get_object_or_404(CabMeeting, pk=pk)
    minutes = request.POST.get("minutes", "")
    return _do(
        request,
        pk,
        None,
        lambda: cab.update_meeting(meeting, request.user, {"minutes": minutes}),
        gettext("Minutes saved."),
    )


@login_required
@require_POST
def send_minutes(request, pk: int):
    _agent(request)
    meeting = get_object_or_404(CabMeeting, pk=pk)
    return _do(
        request,
        pk,
        None,
        lambda: cab.send_minutes(meeting, request.user),
        gettext("Minutes sent to the attendees."),
    )
