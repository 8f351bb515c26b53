"""Screens of incident management: the agent's queue and incident page, and the portal's
pages for reporting and following an issue. Every write goes through ``services``."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from itsm.api.screens import Column, RecordScreens
from itsm.core import services as core
from itsm.core.models import Attachment
from itsm.core.practices import PortalAction, Waiting
from itsm.core.views import is_htmx
from practices.service_desk import services as saved_views
from practices.service_level.queries import sla_timers_prefetch

from . import services
from .api.serializers import IncidentSerializer
from .filters import ORDERING_FIELDS, SAVED_VIEWS, IncidentFilterSet
from .forms import SUGGEST_WHILE_TYPING, BulkUpdateForm, IncidentForm, ReportIssueForm
from .models import Channel, Incident, OnHoldReason, ResolutionCode
from .workflows import IncidentState

# Agent workspace --------------------------------------------------------------------------


def _exact_number(params: QueryDict) -> str | None:
    """The incident number searched for, when the search is only that (from the top bar)."""
    term = params.get("search", "").strip().upper()
    others = set(params) - {"search"}
    if others or not term.startswith(Incident.NUMBER_PREFIX):
        return None
    return term if term[len(Incident.NUMBER_PREFIX) :].isdigit() else None


class IncidentScreens(RecordScreens):
    """The incident's page in the workspace and what is done on it (the kernel's record
    screens); end users attach files to their own through it from the portal's page."""

    queryset = Incident.objects.select_related(
        "caller", "assigned_to", "assignment_group", "parent"
    ).prefetch_related(sla_timers_prefetch())
    serializer_class = IncidentSerializer
    record_services = services
    edit_form = IncidentForm
    page_template = "incidents/detail.html"
    context_object_name = "incident"
    portal_url_name = "incidents:portal-detail"
    end_user_actions = frozenset({"attach"})
    transition_fields = ("on_hold_reason", "resolution_code", "resolution_notes")
    comment_messages = (_("Reply sent to the caller."), _("Work note added."))
    create_template = "incidents/create.html"
    create_form = IncidentForm
    bulk_form = BulkUpdateForm
    bulk_template = "incidents/_bulk_bar.html"

    filterset_class = IncidentFilterSet
    ordering_fields = ORDERING_FIELDS
    list_template = "incidents/queue.html"
    table_template = "incidents/_queue_table.html"
    rows_template = "incidents/_queue_rows.html"
    rows_name = "incidents"
    views_template = "incidents/_views.html"
    empty_text = _("No incidents match.")
    selectable = True
    columns = (
        Column(_("Number"), "number"),
        Column(_("Pri"), "priority"),
        Column(_("Title")),
        Column(_("SLA")),
        Column(_("Caller")),
        Column(_("State"), "state"),
        Column(_("Group")),
        Column(_("Assignee")),
        Column(_("Opened"), "created_at"),
        Column(_("Updated"), "updated_at"),
    )

    def list_queryset(self):
        """What the queue shows by name is joined; nothing more (see the API viewset)."""
        return (
            Incident.objects.visible_to(self.request.user)
            .select_related("caller", "assigned_to", "assignment_group")
            .prefetch_related(sla_timers_prefetch())
        )

    saved_views = SAVED_VIEWS
    default_view = "all_open"

    def view_preset(self, params):
        """The preset views, and the agent's own saved views (``?saved=<id>``)."""
        self.my_views = list(saved_views.views_of(self.request.user, "incidents"))
        self.saved = next((v for v in self.my_views if str(v.pk) == params.get("saved")), None)
        if self.saved is not None:
            return QueryDict(self.saved.query, mutable=True), {"saved": str(self.saved.pk)}
        return super().view_preset(params)

    def list_params(self, request):
        params = super().list_params(request)
        jump = _exact_number(params)
        if jump and not is_htmx(request) and self.list_queryset().filter(number=jump).exists():
            # The top search "goes to" an incident when given its exact number.
            return redirect("incidents:detail", number=jump)
        return params

    def list_context(self, params, links=None, **declared):
        context = super().list_context(params, links, **declared)
        context.update(
            {
                "my_views": self.my_views,
                "current_saved": self.saved,
            }
        )
        return context

    def get_create_form(self, data=None):
        form = super().get_create_form(data)
        form.fields["title"].widget.attrs.update(SUGGEST_WHILE_TYPING)
        return form

    def bulk_apply(self, keys, values):
        return services.bulk_update(self.request.user, keys, values)

    def get_serializer_context(self):
        channel = Channel.PORTAL if self.audience == "portal" else Channel.AGENT
        return {**super().get_serializer_context(), "channel": channel}

    def page_context(self, record, **extra):
        extra.setdefault("form", IncidentForm(instance=record))
        return super().page_context(
            record,
            children=record.children.select_related("assigned_to").order_by("number"),
            configuration_items=record.configuration_items.all(),
            on_hold_reasons=OnHoldReason.choices,
            resolution_codes=ResolutionCode.choices,
            **extra,
        )

    def portal_screens(self):
        return PortalIncidentScreens()


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


class PortalIncidentScreens(IncidentScreens):
    """An employee's incident on the portal: the public conversation, files, and the moves
    the portal offers (confirm or reopen a resolution, withdraw a new report)."""

    audience = "portal"
    noun = _("issue")
    create_template = "incidents/portal_report.html"
    create_form = ReportIssueForm
    edit = link = unlink = bulk = None  # staff's, in the workspace
    list_template = ""  # an employee's issues are listed on the portal's home
    transition_fields = ()  # the portal's moves carry only a comment
    page_template = "incidents/portal_detail.html"
    comment_messages = (_("Your comment was added."), _("Your comment was added."))

    def page_context(self, record, **extra):
        return RecordScreens.page_context(
            self,
            record,
            timeline=core.timeline(record, self.request.user).exclude(kind="notification"),
            transitions=[
                t
                for t in record.workflow.available(record, self.request.user)
                if self.transition_allowed(record, t.target)
            ],
            **extra,
        )

    def create_initial(self) -> dict:
        # ``?title=`` keeps what was typed when someone comes back from a suggested article.
        return {"title": self.request.GET.get("title", "")}

    def get_serializer_context(self):
        """A report's files go along with it, to be attached in its transaction."""
        context = super().get_serializer_context()
        if self.action == "new" and self.request.method == "POST":
            context["files"] = self.request.FILES.getlist("attachments")
        return context

    def create_message(self, obj) -> str:
        return gettext("Thanks, we have logged your issue as %(number)s.") % {"number": obj.number}

    def transition_allowed(self, record, target) -> bool:
        """What the portal offers: reopen or confirm a resolution, withdraw a new report."""
        if record.state == IncidentState.RESOLVED:
            return target in (IncidentState.IN_PROGRESS, IncidentState.CLOSED)
        return record.state == IncidentState.NEW and target == IncidentState.CANCELLED

    def transition_message(self, record) -> str:
        return {
            IncidentState.CLOSED: gettext("Thanks for confirming; the issue is closed."),
            IncidentState.IN_PROGRESS: gettext("The issue is reopened; we will look at it again."),
            IncidentState.CANCELLED: gettext("Your report is withdrawn."),
        }.get(record.state, gettext("Done."))


def portal_waiting(incident) -> Waiting | None:
    """Whether an employee's issue waits for them (their portal home lists it first): a
    resolution to confirm (or reopen), or a question of the service desk to answer."""
    page = reverse("incidents:portal-detail", args=[incident.number])
    if incident.state == IncidentState.RESOLVED:
        confirm = reverse("incidents:portal-transition", args=[incident.number])
        return Waiting(
            gettext("Resolved: is it fixed?"),
            (
                PortalAction(
                    gettext("Yes, it's fixed"),
                    confirm,
                    post={"state": IncidentState.CLOSED},
                    primary=True,
                ),
                PortalAction(gettext("No, reopen it"), f"{page}#resolution"),
            ),
        )
    if (
        incident.state == IncidentState.ON_HOLD
        and incident.on_hold_reason == OnHoldReason.AWAITING_CALLER
    ):
        return Waiting(
            gettext("We need your answer"),
            (PortalAction(gettext("Answer"), f"{page}#reply", primary=True),),
        )
    return None
