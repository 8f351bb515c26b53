"""Screens of change enablement: the change queue and page, raising a change (from a
standard change template too), change tasks. The risk, conflicts and schedule, and
authorisation modules each add their block to the change page (``panel``) and their own
screens. Every write goes through ``services``."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework.decorators import action
from rest_framework.response import Response

from cmdb.models import ConfigurationItem
from itsm.api.screens import Column, RecordScreens
from itsm.core.services import StaleVersion
from itsm.core.views import add_errors, error_text, parse_id

from . import approvals, conflicts, risk, services, templates
from .api.serializers import ChangeSerializer, ChangeTaskSerializer
from .api.views import change_queryset
from .filters import (
    ORDERING_FIELDS,
    SAVED_VIEWS,
    TASK_ORDERING_FIELDS,
    TASK_SAVED_VIEWS,
    ChangeFilterSet,
    ChangeTaskFilterSet,
)
from .forms import ChangeForm, CreateChangeForm, TaskForm, TemplateForm
from .models import (
    UNSUCCESSFUL,
    Change,
    ChangeKind,
    ChangeTask,
    ChangeTemplate,
    ClosureCode,
    RiskLevel,
)
from .workflows import ChangeState, TaskState

STATUSES = (
    (ChangeTemplate.Status.ACTIVE, _("Ready to use")),
    (ChangeTemplate.Status.PROPOSED, _("Proposed, waiting for review")),
    (ChangeTemplate.Status.RETIRED, _("Retired")),
)


class ChangeScreens(RecordScreens):
    queryset = change_queryset().select_related("assignment_group", "template")
    lookup_value_regex = r"CHG\d{7,}"
    serializer_class = ChangeSerializer
    record_services = services
    edit_form = ChangeForm
    page_template = "changes/detail.html"
    context_object_name = "change"
    transition_fields = ("closure_code", "closure_notes")
    comment_messages = (_("Added."), _("Work note added."))
    create_template = "changes/create.html"
    create_form = CreateChangeForm

    filterset_class = ChangeFilterSet
    ordering_fields = ORDERING_FIELDS
    list_template = "changes/queue.html"
    rows_template = "changes/_queue_rows.html"
    rows_name = "changes"
    empty_text = _("No changes match.")
    columns = (
        Column(_("Number"), "number"),
        Column(_("Title")),
        Column(_("Model")),
        Column(_("Risk")),
        Column(_("State"), "state"),
        Column(_("Planned")),
        Column(_("Group")),
        Column(_("Assignee")),
        Column(_("Updated"), "updated_at"),
    )
    saved_views = SAVED_VIEWS
    default_view = "all_open"

    def list_queryset(self):
        """The rows show the model, group and assignee: none of the page's prefetches."""
        return (
            Change.objects.visible_to(self.request.user)
            .select_related("model", "assignment_group", "assigned_to")
            .defer("implementation_plan", "backout_plan", "test_plan", "risk_reasons")
        )

    def list_context(self, params, links=None, **declared):
        context = super().list_context(params, links, **declared)
        context.update(
            states=ChangeState.choices, risks=RiskLevel.choices, kinds=ChangeKind.choices
        )
        return context

    def page_context(self, record, **extra):
        user = self.request.user
        extra.setdefault("form", ChangeForm(instance=record))
        extra.setdefault("task_form", TaskForm(initial={"stage": 1}))
        context = super().page_context(
            record,
            tasks=record.tasks.select_related("assignment_group", "assigned_to"),
            services_list=record.services.all(),
            configuration_items=record.configuration_items.select_related("ci_class"),
            closure_codes=[
                (value, label)
                for value, label in ClosureCode.choices
                if value not in (ClosureCode.REJECTED, ClosureCode.CANCELLED)
            ],
            risk_panel=risk.panel(record),
            conflicts_panel=conflicts.panel(record, user),
            approvals_panel=approvals.panel(record, user),
            **extra,
        )
        # While the authorisation is pending, scheduling is the approvers' last decision
        # (it schedules the change), not a button that can only be refused.
        if approvals.authorisation_missing(record):
            context["transitions"] = [
                t for t in context["transitions"] if t.target != ChangeState.SCHEDULED
            ]
        return context

    def create_initial(self) -> dict:
        """``?template=<id>``: a standard change from that template, prefilled;
        ``?ci=<id>``: a change to that CI."""
        initial = {}
        template_id = self.request.GET.get("template", "")
        if template_id.isdigit():
            template = ChangeTemplate.objects.filter(
                pk=int(template_id), status=ChangeTemplate.Status.ACTIVE
            ).first()
            if template is None:
                messages.error(self.request, _("That template is not active."))
            else:
                initial.update(services.template_data(template))
                initial["template"] = template.pk
                initial["model"] = template.model_id
                for name in ("assignment_group",):
                    if name in initial:
                        initial[name] = initial[name].pk
        ci_id = self.request.GET.get("ci", "")
        if ci_id.isdigit() and ConfigurationItem.objects.filter(pk=int(ci_id)).exists():
            initial["configuration_items"] = [int(ci_id)]
        return initial

    def create_message(self, obj) -> str:
        return gettext("%(number)s raised.") % {"number": obj.number}

    @action(detail=True, methods=["post"], url_path="tasks", url_name="add-task")
    def add_task(self, request, number=None):
        change = self.get_object()
        serializer = ChangeTaskSerializer(
            data={
                **{k: v for k, v in request.data.items() if v not in ("", None)},
                "change": change.number,
            },
            context=self.get_serializer_context(),
        )
        form = TaskForm(request.data)
        if serializer.is_valid():
            try:
                task = serializer.save()
            except ValidationError as error:
                messages.error(request, error_text(error))
                return self.back(change)
            return self.done(change, gettext("%(number)s added.") % {"number": task.number})
        for name, errors in serializer.errors.items():
            form.add_error(name if name in form.fields else None, errors)
        return self.page(self.reread(change), 400, task_form=form)

    @action(detail=True, methods=["post"], url_path="follow-up-problem", url_name="follow-up")
    def follow_up(self, request, number=None):
        change = self.get_object()
        try:
            problem = services.raise_follow_up_problem(change, request.user)
        except ValidationError as error:
            messages.error(request, error_text(error))
            return self.back(change)
        messages.success(
            request,
            gettext("%(problem)s raised to follow up %(change)s.")
            % {"problem": problem.number, "change": change.number},
        )
        return self.back(change)

    # Risk (changes.risk): answering the questionnaire, overriding the risk --------------

    @action(detail=True, methods=["post"], url_path="risk", url_name="risk")
    def risk_form(self, request, number=None):
        """The risk block's forms: ``do=answer`` answers the questionnaire (``q-<id>``: the
        chosen value per question), ``do=override`` sets the override with its reason (or
        clears it with an empty risk)."""
        change = self.get_object()
        if request.data.get("do") == "override":
            data = {
                "risk_override": request.data.get("risk_override", ""),
                "risk_override_reason": request.data.get("risk_override_reason", ""),
            }
            serializer = self.get_serializer(change, data=data, partial=True)
            errors = None
            if serializer.is_valid():
                try:
                    with transaction.atomic():
                        serializer.save(expected_version=self.version())
                except StaleVersion as stale:
                    messages.error(request, _("The change was changed meanwhile; look again."))
                    return self.page(stale.record, 409)
                except ValidationError as error:
                    errors = error_text(error)
            else:
                errors = " ".join(str(m) for ms in serializer.errors.values() for m in ms)
            if errors:
                return self.page(self.reread(change), 400, risk_errors=errors)
            return self.done(
                change,
                gettext("Risk overridden to %(risk)s.")
                % {"risk": risk.risk_word(data["risk_override"])}
                if data["risk_override"]
                else gettext("The calculated risk applies again."),
            )
        answers = [
            {"question": key[2:], "value": value}
            for key, value in request.data.items()
            if key.startswith("q-") and value
        ]
        try:
            risk.answer(change, request.user, answers)
        except ValidationError as error:
            return self.page(self.reread(change), 400, risk_errors=error_text(error))
        return self.done(change, gettext("Risk assessment saved; the risk is recalculated."))

    # The standard change catalogue (``changes.templates``) ----------------------------

    @action(detail=False, url_path="templates", url_name="templates")
    def template_catalogue(self, request):
        """Pre-authorised standard changes agents start from; proposed ones for review,
        retired ones for the record, each with the number of its changes that failed."""
        rows = list(
            ChangeTemplate.objects.select_related("model", "assignment_group", "proposed_by")
            .annotate(
                used=Count("changes"),
                failed=Count("changes", filter=Q(changes__closure_code__in=UNSUCCESSFUL)),
            )
            .order_by("name")
        )
        by_status = {status: [t for t in rows if t.status == status] for status, _label in STATUSES}
        return Response(
            {
                "sections": [(label, by_status[status], status) for status, label in STATUSES],
                "may_review": templates.is_change_manager(request.user),
                "form": TemplateForm(),
            },
            template_name="changes/templates.html",
        )

    @action(detail=False, methods=["get", "post"], url_path="templates/new", url_name="propose")
    def propose_template(self, request):
        form = TemplateForm(request.data if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                template = templates.propose(request.user, form.cleaned_data)
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(
                    request, gettext("“%(name)s” proposed for review.") % {"name": template.name}
                )
                return redirect("changes:templates")
        status = 400 if form.errors else 200
        return Response({"form": form}, status=status, template_name="changes/template_new.html")

    @action(
        detail=False,
        methods=["post"],
        url_path=r"templates/(?P<pk>[0-9]+)/(?P<verb>review|retire)",
        url_name="template-action",
    )
    def template_action(self, request, pk=None, verb=None):
        template = get_object_or_404(ChangeTemplate, pk=parse_id(pk))
        try:
            if verb == "retire":
                templates.retire(template, request.user)
                messages.success(request, gettext("“%(name)s” retired.") % {"name": template.name})
            else:
                approve = request.data.get("decision") == "approve"
                templates.review(template, request.user, approve, request.data.get("notes", ""))
                messages.success(
                    request,
                    (
                        gettext("“%(name)s” is active.")
                        if approve
                        else gettext("“%(name)s” sent back to its proposer.")
                    )
                    % {"name": template.name},
                )
        except ValidationError as error:
            messages.error(request, error_text(error))
        return redirect("changes:templates")


class ChangeTaskScreens(RecordScreens):
    queryset = ChangeTask.objects.select_related("change", "assignment_group", "assigned_to")
    lookup_value_regex = r"CTASK\d{7,}"
    serializer_class = ChangeTaskSerializer
    record_services = services
    edit_form = TaskForm
    page_template = "changes/task.html"
    context_object_name = "task"
    transition_fields = ("close_notes",)
    comment_messages = (_("Added."), _("Work note added."))
    create_template = ""
    create_form = None
    new = None

    filterset_class = ChangeTaskFilterSet
    ordering_fields = TASK_ORDERING_FIELDS
    list_template = "changes/tasks.html"
    rows_template = "changes/_task_rows.html"
    rows_name = "tasks"
    empty_text = _("No change tasks match.")
    columns = (
        Column(_("Number"), "number"),
        Column(_("Title")),
        Column(_("Change")),
        Column(_("Stage"), "stage"),
        Column(_("State"), "state"),
        Column(_("Group")),
        Column(_("Assignee")),
        Column(_("Updated"), "updated_at"),
    )
    saved_views = TASK_SAVED_VIEWS
    default_view = "team_open"

    def list_context(self, params, links=None, **declared):
        context = super().list_context(params, links, **declared)
        context["states"] = TaskState.choices
        return context

    def page_context(self, record, **extra):
        extra.setdefault("form", TaskForm(instance=record))
        return super().page_context(record, **extra)
