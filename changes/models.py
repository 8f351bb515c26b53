"""Change enablement: changes (``CHG``) and their tasks (``CTASK``), the change models
that say how each kind of change is handled, standard change templates, the risk engine's
rules and questionnaires, schedule windows (maintenance and blackout), conflicts, approval
policies with their approvals, and CAB meetings.

Everything that decides how a change is handled is data administered without code: a change
model's path through the states and the plans each state requires, the approval policy's
levels by risk, the ordered risk rules, a questionnaire's weighted answers."""

import secrets

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from itsm.core.approvals import AbstractApproval, AbstractApprovalLevel
from itsm.core.models import Record, RecordQuerySet

from .workflows import (
    FIELD_NAMES,
    IN_FLIGHT,
    OPEN,
    ORDER,
    ChangeState,
    TaskState,
    change_workflow,
    task_workflow,
)


class ChangeKind(models.TextChoices):
    STANDARD = "standard", _("Standard")
    NORMAL = "normal", _("Normal")
    EMERGENCY = "emergency", _("Emergency")
    REGISTRATION = "registration", _("Registration")


#: The path each kind of model takes unless its administrator says otherwise.
DEFAULT_PATHS = {
    ChangeKind.STANDARD: ["new", "scheduled", "implement", "review", "closed"],
    ChangeKind.NORMAL: ["new", "assess", "authorise", "scheduled", "implement", "review", "closed"],
    ChangeKind.EMERGENCY: ["new", "authorise", "scheduled", "implement", "review", "closed"],
    ChangeKind.REGISTRATION: ["new", "review", "closed"],
}


class RiskLevel(models.TextChoices):
    LOW = "low", _("Low")
    MODERATE = "moderate", _("Moderate")
    HIGH = "high", _("High")


#: Higher is riskier: the risk engine keeps the highest of its results.
RISK_RANK = {RiskLevel.LOW: 1, RiskLevel.MODERATE: 2, RiskLevel.HIGH: 3}


class ImpactLevel(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class ChangeCategory(models.TextChoices):
    APPLICATION = "application", _("Application")
    INFRASTRUCTURE = "infrastructure", _("Infrastructure")
    NETWORK = "network", _("Network")
    DATABASE = "database", _("Database")
    SECURITY = "security", _("Security")
    HARDWARE = "hardware", _("Hardware")
    FACILITIES = "facilities", _("Facilities")
    DOCUMENTATION = "documentation", _("Documentation")
    OTHER = "other", _("Other")


class ClosureCode(models.TextChoices):
    """The outcome of the post-implementation review (and how a change ended otherwise)."""

    SUCCESSFUL = "successful", _("Successful")
    SUCCESSFUL_WITH_ISSUES = "successful_with_issues", _("Successful with issues")
    FAILED = "failed", _("Failed")
    BACKED_OUT = "backed_out", _("Backed out")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


#: Outcomes that count against a team's and a model's change success score, and that offer
#: a follow-up problem.
UNSUCCESSFUL = frozenset({ClosureCode.FAILED, ClosureCode.BACKED_OUT})


class ApprovalState(models.TextChoices):
    NOT_REQUESTED = "not_requested", _("Not requested")
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    NOT_NEEDED = "not_needed", _("Not needed (pre-authorised)")


# Approval policies --------------------------------------------------------------------------


class ApprovalPolicy(models.Model):
    """Who authorises a change: levels decided in order; a level applies from a risk up."""

    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    active = models.BooleanField(default=True, verbose_name=_("active"))

    class Meta:
        ordering = ["name"]
        verbose_name_plural = _("approval policies")
        verbose_name = _("approval policy")

    def __str__(self):
        return self.name


class ApprovalLevel(AbstractApprovalLevel):
    """One level of a change authorisation policy (the kernel's levels): who, in which
    mode, from which risk, within which time."""

    class Kind(models.TextChoices):
        PEER = "peer", _("Peer review (a member of the change's team, not its requester)")
        TEAM_MANAGER = "team_manager", _("The assignment group's manager")
        CHANGE_MANAGER = "change_manager", _("A change manager")
        CAB = "cab", _("The change advisory board (decided at a CAB meeting)")
        TEAM = "team", _("Members of a team")
        EMERGENCY_AUTHORITY = "emergency_authority", _("The emergency change authority (a team)")

    TEAM_KINDS = frozenset({Kind.TEAM, Kind.CAB, Kind.EMERGENCY_AUTHORITY})

    class Mode(models.TextChoices):
        ANY = "any", _("Any one approver")
        ALL = "all", _("Every approver")

    policy = models.ForeignKey(
        ApprovalPolicy, on_delete=models.CASCADE, related_name="levels", verbose_name=_("policy")
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, verbose_name=_("kind"))
    mode = models.CharField(
        max_length=3, choices=Mode.choices, default=Mode.ANY, verbose_name=_("mode")
    )
    min_risk = models.CharField(
        _("applies from risk"),
        max_length=10,
        choices=RiskLevel.choices,
        default=RiskLevel.LOW,
        help_text=_("The level applies to changes of this risk and higher."),
    )
    deadline_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_(
            "Decide within this many minutes (an SLA timer runs; the emergency "
            "change authority's short deadline)."
        ),
        verbose_name=_("deadline minutes"),
    )

    class Meta:
        ordering = ["policy", "order"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "order"], name="one_change_level_per_order")
        ]
        verbose_name = _("approval level")
        verbose_name_plural = _("approval levels")

    def __str__(self):
        return f"{self.policy}: level {self.order} ({self.get_kind_display()})"


# Questionnaires ------------------------------------------------------------------------------


class Questionnaire(models.Model):
    """A risk assessment: weighted answers add up to a score; thresholds give the risk."""

    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    moderate_from = models.PositiveIntegerField(
        default=10,
        help_text=_("A score from this is moderate risk."),
        verbose_name=_("moderate from"),
    )
    high_from = models.PositiveIntegerField(
        default=20, help_text=_("A score from this is high risk."), verbose_name=_("high from")
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")

    def __str__(self):
        return self.name

    def clean(self):
        if self.high_from <= self.moderate_from:
            raise ValidationError({"high_from": _("High risk starts above moderate.")})

    def risk_for(self, score: int) -> str:
        if score >= self.high_from:
            return RiskLevel.HIGH
        if score >= self.moderate_from:
            return RiskLevel.MODERATE
        return RiskLevel.LOW


class Question(models.Model):
    questionnaire = models.ForeignKey(
        Questionnaire,
        on_delete=models.CASCADE,
        related_name="questions",
        verbose_name=_("questionnaire"),
    )
    order = models.PositiveIntegerField(default=1, verbose_name=_("order"))
    text = models.CharField(max_length=300, verbose_name=_("text"))
    help_text = models.CharField(max_length=300, blank=True, verbose_name=_("help text"))
    choices = models.JSONField(
        default=list,
        help_text=_(
            'The answers and their weights: [{"value": "yes", "label": "Yes", "weight": 5}]'
        ),
        verbose_name=_("choices"),
    )

    class Meta:
        ordering = ["questionnaire", "order", "pk"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")

    def __str__(self):
        return self.text

    def clean(self):
        if (
            not isinstance(self.choices, list)
            or not self.choices
            or not all(
                isinstance(c, dict)
                and isinstance(c.get("value"), str)
                and isinstance(c.get("weight"), int)
                for c in self.choices
            )
        ):
            raise ValidationError(
                {
                    "choices": gettext(
                        'A list of answers: [{"value": "yes", "label": "Yes", "weight": 5}].'
                    )
                }
            )

    def weight_of(self, value: str) -> int | None:
        for choice in self.choices:
            if choice.get("value") == value:
                return int(choice.get("weight", 0))
        return None


# Change models and templates ---------------------------------------------------------------


class ChangeModel(models.Model):
    """How a kind of change is handled: its path through the states, the fields required
    to enter each state, its approval policy and its risk questionnaire."""

    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    kind = models.CharField(max_length=20, choices=ChangeKind.choices, verbose_name=_("kind"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    states = models.JSONField(
        default=list,
        blank=True,
        help_text=_(
            "The states a change of this model passes through, in order (empty: the "
            "kind's usual path)."
        ),
        verbose_name=_("states"),
    )
    required_fields = models.JSONField(
        default=dict,
        blank=True,
        help_text=_('Fields required to enter a state: {"authorise": ["backout_plan"]}.'),
        verbose_name=_("required fields"),
    )
    approval_policy = models.ForeignKey(
        ApprovalPolicy,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="models",
        verbose_name=_("approval policy"),
    )
    questionnaire = models.ForeignKey(
        Questionnaire,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="models",
        verbose_name=_("questionnaire"),
    )
    lead_time_hours = models.PositiveIntegerField(
        default=0,
        help_text=_("Notice a change of this model should give before its window."),
        verbose_name=_("lead time hours"),
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("change model")
        verbose_name_plural = _("change models")

    def __str__(self):
        return self.name

    @property
    def path(self) -> list[str]:
        return list(self.states) if self.states else list(DEFAULT_PATHS[self.kind])

    def required_for(self, state: str) -> list[str]:
        return list((self.required_fields or {}).get(state, []))

    @property
    def is_standard(self) -> bool:
        return self.kind == ChangeKind.STANDARD

    @property
    def is_emergency(self) -> bool:
        return self.kind == ChangeKind.EMERGENCY

    def clean(self):
        errors = {}
        path = self.states or []
        if path:
            if not isinstance(path, list) or not all(isinstance(s, str) for s in path):
                errors["states"] = gettext("A list of states.")
            elif path[0] != ChangeState.NEW or path[-1] != ChangeState.CLOSED:
                errors["states"] = gettext("The path starts at new and ends at closed.")
            elif any(s not in ORDER for s in path) or [s for s in ORDER if s in path] != path:
                errors["states"] = gettext("States in this order, each once: %(states)s.") % {
                    "states": ", ".join(ORDER)
                }
        required = self.required_fields or {}
        if not isinstance(required, dict):
            errors["required_fields"] = gettext('A mapping: {"authorise": ["backout_plan"]}.')
        else:
            for state, names in required.items():
                if state not in ORDER:
                    errors["required_fields"] = gettext("'%(state)s' is not a state.") % {
                        "state": state
                    }
                elif not isinstance(names, list) or any(n not in FIELD_NAMES for n in names):
                    errors["required_fields"] = gettext(
                        "Fields of a change, among: %(fields)s."
                    ) % {"fields": ", ".join(FIELD_NAMES)}
        if errors:
            raise ValidationError(errors)


class ChangeTemplate(models.Model):
    """A standard change: pre-authorised, its fields and tasks prefilled. Proposed, reviewed
    (activated) and retired; a template whose changes failed is flagged."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        ACTIVE = "active", _("Active")
        RETIRED = "retired", _("Retired")

    name = models.CharField(max_length=200, unique=True, verbose_name=_("name"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PROPOSED, verbose_name=_("status")
    )
    model = models.ForeignKey(
        ChangeModel, on_delete=models.PROTECT, related_name="templates", verbose_name=_("model")
    )
    category = models.CharField(
        max_length=20, choices=ChangeCategory.choices, blank=True, verbose_name=_("category")
    )
    assignment_group = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("assignment group"),
    )
    implementation_plan = models.TextField(blank=True, verbose_name=_("implementation plan"))
    backout_plan = models.TextField(blank=True, verbose_name=_("backout plan"))
    test_plan = models.TextField(blank=True, verbose_name=_("test plan"))
    duration_minutes = models.PositiveIntegerField(default=60, verbose_name=_("duration minutes"))
    outage_expected = models.BooleanField(default=False, verbose_name=_("outage expected"))
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("proposed by"),
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("reviewed at"))
    review_notes = models.TextField(blank=True, verbose_name=_("review notes"))
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("change template")
        verbose_name_plural = _("change templates")

    def __str__(self):
        return self.name

    def clean(self):
        if self.model_id and not self.model.is_standard:
            raise ValidationError({"model": _("A template is for a standard change model.")})


class TemplateTask(models.Model):
    """A task a standard change's template opens: stages in sequence, a stage's tasks in
    parallel."""

    template = models.ForeignKey(
        ChangeTemplate, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("template")
    )
    stage = models.PositiveIntegerField(default=1, verbose_name=_("stage"))
    title = models.CharField(max_length=200, verbose_name=_("title"))
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.PROTECT, related_name="+", verbose_name=_("team")
    )

    class Meta:
        ordering = ["template", "stage", "pk"]
        verbose_name = _("template task")
        verbose_name_plural = _("template tasks")

    def __str__(self):
        return f"{self.template}: {self.stage}. {self.title}"


# Changes ------------------------------------------------------------------------------------


class ChangeQuerySet(RecordQuerySet):
    def for_end_user(self, user):
        """Changes are staff work: whoever requested one (staff too, as a rule) does not
        make it visible to an end user."""
        return self.none()

    def open(self):
        return self.filter(state__in=OPEN)

    def in_flight(self):
        return self.filter(state__in=IN_FLIGHT)


class Change(Record):
    NUMBER_PREFIX = "CHG"
    REQUESTER_FIELD = "requested_by"
    workflow = change_workflow

    state = models.CharField(
        max_length=20,
        choices=ChangeState.choices,
        default=ChangeState.NEW,
        db_index=True,
        verbose_name=_("state"),
    )
    model = models.ForeignKey(
        ChangeModel, on_delete=models.PROTECT, related_name="changes", verbose_name=_("model")
    )
    template = models.ForeignKey(
        ChangeTemplate,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="changes",
        verbose_name=_("template"),
    )
    justification = models.TextField(blank=True, verbose_name=_("justification"))
    category = models.CharField(
        max_length=20,
        choices=ChangeCategory.choices,
        default=ChangeCategory.OTHER,
        verbose_name=_("category"),
    )
    services = models.ManyToManyField(
        "catalogue.Service", blank=True, related_name="changes", verbose_name=_("services")
    )
    configuration_items = models.ManyToManyField(
        "cmdb.ConfigurationItem",
        blank=True,
        related_name="changes",
        verbose_name=_("configuration items"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="changes_requested",
        verbose_name=_("requested by"),
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="changes_opened",
        editable=False,
        verbose_name=_("opened by"),
    )
    planned_start = models.DateTimeField(null=True, blank=True, verbose_name=_("planned start"))
    planned_end = models.DateTimeField(null=True, blank=True, verbose_name=_("planned end"))
    actual_start = models.DateTimeField(null=True, blank=True, verbose_name=_("actual start"))
    actual_end = models.DateTimeField(null=True, blank=True, verbose_name=_("actual end"))
    implementation_plan = models.TextField(blank=True, verbose_name=_("implementation plan"))
    backout_plan = models.TextField(blank=True, verbose_name=_("backout plan"))
    test_plan = models.TextField(blank=True, verbose_name=_("test plan"))
    outage_expected = models.BooleanField(default=False, verbose_name=_("outage expected"))
    cab_date = models.DateField(_("CAB date"), null=True, blank=True)

    # Risk: computed by ``changes.risk`` (an override needs a reason and is journalled).
    risk = models.CharField(
        max_length=10,
        choices=RiskLevel.choices,
        default=RiskLevel.MODERATE,
        editable=False,
        verbose_name=_("risk"),
    )
    impact = models.CharField(
        max_length=10,
        choices=ImpactLevel.choices,
        default=ImpactLevel.MEDIUM,
        editable=False,
        verbose_name=_("impact"),
    )
    probability = models.CharField(
        max_length=10,
        choices=ImpactLevel.choices,
        default=ImpactLevel.MEDIUM,
        editable=False,
        verbose_name=_("probability"),
    )
    risk_score = models.PositiveIntegerField(
        default=0, editable=False, verbose_name=_("risk score")
    )
    #: Every rule and answer that contributed, with its value: [{"source", "name", "value", "result"}]
    risk_reasons = models.JSONField(
        default=list, blank=True, editable=False, verbose_name=_("risk reasons")
    )
    risk_calculated_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("risk calculated at")
    )
    risk_override = models.CharField(
        max_length=10, choices=RiskLevel.choices, blank=True, verbose_name=_("risk override")
    )
    risk_override_reason = models.TextField(blank=True, verbose_name=_("risk override reason"))

    # Authorisation: ``changes.approvals``.
    approval_state = models.CharField(
        max_length=20,
        choices=ApprovalState.choices,
        default=ApprovalState.NOT_REQUESTED,
        editable=False,
        verbose_name=_("approval state"),
    )
    approval_level = models.PositiveIntegerField(
        default=0, editable=False, verbose_name=_("approval level")
    )

    # A freeze (change lockdown) holds changes not yet implemented.
    on_hold = models.BooleanField(default=False, editable=False, verbose_name=_("on hold"))
    hold_reason = models.CharField(
        max_length=300, blank=True, editable=False, verbose_name=_("hold reason")
    )

    closure_code = models.CharField(
        max_length=30, choices=ClosureCode.choices, blank=True, verbose_name=_("closure code")
    )
    closure_notes = models.TextField(blank=True, verbose_name=_("closure notes"))
    closed_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("closed at")
    )

    # Links to the other practices (they feed the change success score).
    caused_incidents = models.ManyToManyField(
        "incidents.Incident",
        blank=True,
        related_name="caused_by_changes",
        verbose_name=_("caused incidents"),
    )
    resolves_problems = models.ManyToManyField(
        "problems.Problem",
        blank=True,
        related_name="resolving_changes",
        verbose_name=_("resolves problems"),
    )
    follow_up_problem = models.ForeignKey(
        "problems.Problem",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("follow up problem"),
    )

    #: Its SLA timers (an emergency change's authorisation deadline, say).
    sla_timers = GenericRelation("service_level.Timer")

    objects = ChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="chg_created"),
            models.Index(fields=["state", "-created_at", "-id"], name="chg_state"),
            models.Index(fields=["assignment_group", "state"], name="chg_group"),
            models.Index(fields=["planned_start", "planned_end"], name="chg_window"),
            models.Index(fields=["closed_at"], name="chg_closed"),
        ]
        verbose_name = _("change")
        verbose_name_plural = _("changes")

    @property
    def effective_risk(self) -> str:
        return self.risk_override or self.risk

    @property
    def is_open(self) -> bool:
        return self.state in OPEN

    @property
    def is_emergency(self) -> bool:
        return self.model.is_emergency

    @property
    def is_unsuccessful(self) -> bool:
        return self.closure_code in UNSUCCESSFUL


class ChangeTask(Record):
    """Implementation work of one team: stages in sequence, a stage's tasks in parallel.
    Every task is closed (or cancelled) before the change goes to review."""

    NUMBER_PREFIX = "CTASK"
    DETAIL_URL_NAME = "changes:task-detail"
    REQUESTER_FIELD = None
    workflow = task_workflow
    OPEN_STATES = (TaskState.OPEN, TaskState.IN_PROGRESS)

    state = models.CharField(
        max_length=20,
        choices=TaskState.choices,
        default=TaskState.OPEN,
        db_index=True,
        verbose_name=_("state"),
    )
    change = models.ForeignKey(
        Change, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("change")
    )
    stage = models.PositiveIntegerField(default=1, verbose_name=_("stage"))
    planned_start = models.DateTimeField(null=True, blank=True, verbose_name=_("planned start"))
    planned_end = models.DateTimeField(null=True, blank=True, verbose_name=_("planned end"))
    close_notes = models.TextField(blank=True, verbose_name=_("close notes"))
    closed_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("closed at")
    )

    objects = RecordQuerySet.as_manager()

    class Meta:
        ordering = ["change", "stage", "pk"]
        indexes = [models.Index(fields=["assignment_group", "state"], name="ctask_group")]
        verbose_name = _("change task")
        verbose_name_plural = _("change tasks")


class RiskAnswer(models.Model):
    """A change's answer to one question of its model's questionnaire."""

    change = models.ForeignKey(
        Change, on_delete=models.CASCADE, related_name="risk_answers", verbose_name=_("change")
    )
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="answers", verbose_name=_("question")
    )
    value = models.CharField(max_length=100, verbose_name=_("value"))
    weight = models.IntegerField(default=0, verbose_name=_("weight"))
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("answered by"),
    )
    answered_at = models.DateTimeField(default=timezone.now, verbose_name=_("answered at"))

    class Meta:
        ordering = ["change", "question__order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["change", "question"], name="one_answer_per_question")
        ]
        verbose_name = _("risk answer")
        verbose_name_plural = _("risk answers")

    def __str__(self):
        return f"{self.change.number}: {self.question} = {self.value}"


class RiskRule(models.Model):
    """An ordered risk condition: the first active rule whose conditions all hold gives its
    risk (like ServiceNow's risk conditions). Conditions test the change's risk facts
    (``changes.risk.FACTS``): [{"fact": "lead_time_hours", "op": "lt", "value": 48}]."""

    name = models.CharField(max_length=200, verbose_name=_("name"))
    order = models.PositiveIntegerField(default=100, verbose_name=_("order"))
    active = models.BooleanField(default=True, verbose_name=_("active"))
    conditions = models.JSONField(default=list, verbose_name=_("conditions"))
    risk = models.CharField(max_length=10, choices=RiskLevel.choices, verbose_name=_("risk"))
    change_models = models.ManyToManyField(
        ChangeModel,
        blank=True,
        related_name="risk_rules",
        help_text=_("Applies to changes of these models (none: every model)."),
        verbose_name=_("change models"),
    )
    description = models.TextField(blank=True, verbose_name=_("description"))

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("risk rule")
        verbose_name_plural = _("risk rules")

    def __str__(self):
        return self.name

    def clean(self):
        """Each condition names a fact of ``changes.risk.FACTS``, an operator that fact
        takes and a value of its type; an error names the condition."""
        from .risk import condition_problems

        problems = condition_problems(self.conditions)
        if problems:
            raise ValidationError({"conditions": problems})


class ApprovalQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(decision=AbstractApproval.Decision.PENDING)


class ChangeApproval(AbstractApproval):
    """One approver's decision on one level of a change's authorisation."""

    change = models.ForeignKey(
        Change, on_delete=models.CASCADE, related_name="approvals", verbose_name=_("change")
    )
    kind = models.CharField(
        max_length=20, choices=ApprovalLevel.Kind.choices, verbose_name=_("kind")
    )
    due_at = models.DateTimeField(null=True, blank=True, verbose_name=_("due at"))
    cab_meeting = models.ForeignKey(
        "CabMeeting",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="approvals",
        verbose_name=_("cab meeting"),
    )
    #: Who decided, when not the approver: the CAB member who recorded the board's decision
    #: (empty: the approver, or the platform for an automatic approval).
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
    )
    #: When the change managers were told the deadline (``due_at``) had passed.
    escalated_at = models.DateTimeField(null=True, blank=True, verbose_name=_("escalated at"))

    objects = ApprovalQuerySet.as_manager()

    class Meta:
        ordering = ["change", "level", "pk"]
        indexes = [models.Index(fields=["approver", "decision"], name="change_approval_inbox")]
        constraints = [
            models.UniqueConstraint(
                fields=["change", "level", "approver"], name="one_change_approval_per_level"
            )
        ]
        verbose_name = _("change approval")
        verbose_name_plural = _("change approvals")

    def __str__(self):
        return f"{self.change.number} level {self.level}: {self.approver} {self.decision}"


# Schedule: windows, conflicts -----------------------------------------------------------


class ScheduleWindow(models.Model):
    """A maintenance window (when changes to these CIs should happen) or a blackout (no
    changes: a freeze), scoped to CIs, CI classes or services (none: everything), one-off or
    recurring (an RRULE read in the window's time zone, so 02:00 stays 02:00 across DST)."""

    class Kind(models.TextChoices):
        MAINTENANCE = "maintenance", _("Maintenance window")
        BLACKOUT = "blackout", _("Blackout (no changes)")

    name = models.CharField(max_length=200, verbose_name=_("name"))
    kind = models.CharField(max_length=12, choices=Kind.choices, verbose_name=_("kind"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    starts_at = models.DateTimeField(
        help_text=_("The first (or only) occurrence's start."), verbose_name=_("starts at")
    )
    ends_at = models.DateTimeField(
        help_text=_("The first (or only) occurrence's end."), verbose_name=_("ends at")
    )
    rrule = models.CharField(
        _("recurrence"),
        max_length=500,
        blank=True,
        help_text=_("An iCalendar RRULE, e.g. FREQ=WEEKLY;BYDAY=SU (empty: once)."),
    )
    time_zone = models.CharField(max_length=64, default="UTC", verbose_name=_("time zone"))
    configuration_items = models.ManyToManyField(
        "cmdb.ConfigurationItem",
        blank=True,
        related_name="schedule_windows",
        verbose_name=_("configuration items"),
    )
    ci_classes = models.ManyToManyField(
        "cmdb.CIClass", blank=True, related_name="+", verbose_name=_("ci classes")
    )
    services = models.ManyToManyField(
        "catalogue.Service", blank=True, related_name="+", verbose_name=_("services")
    )
    #: A freeze entered during a major incident (a change lockdown) names the incident.
    incident = models.ForeignKey(
        "incidents.Incident",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("incident"),
    )
    lifted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("lifted at"))
    #: The changes a freeze put on hold (taken off hold when it is lifted).
    held_changes = models.ManyToManyField(
        "Change",
        blank=True,
        related_name="holding_freezes",
        editable=False,
        verbose_name=_("held changes"),
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [models.Index(fields=["kind", "active"], name="window_kind")]
        verbose_name = _("schedule window")
        verbose_name_plural = _("schedule windows")

    def __str__(self):
        return self.name

    def clean(self):
        from .windows import validate

        errors = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = gettext("The window ends after it starts.")
        errors.update(validate(self.rrule, self.time_zone, self.starts_at))
        if errors:
            raise ValidationError(errors)


class Conflict(models.Model):
    """A reason a change's window or CIs collide with something, as last detected."""

    class Kind(models.TextChoices):
        SAME_CI = "same_ci", _("Another change on the same CI")
        RELATED_CI = "related_ci", _("Another change on a related CI")
        OUTSIDE_MAINTENANCE = "outside_maintenance", _("Outside the CI's maintenance window")
        BLACKOUT = "blackout", _("Inside a blackout window")
        ASSIGNEE_BOOKED = "assignee_booked", _("The assignee is already booked")

    change = models.ForeignKey(
        Change, on_delete=models.CASCADE, related_name="conflicts", verbose_name=_("change")
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, verbose_name=_("kind"))
    other_change = models.ForeignKey(
        Change,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("other change"),
    )
    window = models.ForeignKey(
        ScheduleWindow,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="conflicts",
        verbose_name=_("window"),
    )
    configuration_item = models.ForeignKey(
        "cmdb.ConfigurationItem",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("configuration item"),
    )
    detail = models.CharField(max_length=500, verbose_name=_("detail"))
    detected_at = models.DateTimeField(default=timezone.now, verbose_name=_("detected at"))

    class Meta:
        ordering = ["change", "kind", "pk"]
        indexes = [models.Index(fields=["kind"], name="conflict_kind")]
        verbose_name = _("conflict")
        verbose_name_plural = _("conflicts")

    def __str__(self):
        return f"{self.change.number}: {self.detail}"

    @property
    def hides_other(self) -> bool:
        """Read through ``conflicts.seen_by``: its other change, or its CI, is another
        team's or customer's, which this reader may not see named."""
        return (
            self.other_change_id is not None and getattr(self, "other_named", True) is False
        ) or (self.configuration_item_id is not None and getattr(self, "ci_named", True) is False)

    @property
    def shown_detail(self) -> str:
        """The detail as this reader may read it (``hides_other``: the kind only)."""
        if self.hides_other:
            return gettext("%(kind)s, of another team or customer (not shown to you).") % {
                "kind": self.get_kind_display()
            }
        return self.detail


class CalendarFeed(models.Model):
    """A person's read-only iCalendar feed of the change schedule: the token in its URL is
    stored only as a hash; rotating it invalidates the old URL."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="change_calendar_feed",
        verbose_name=_("user"),
    )
    token_hash = models.CharField(max_length=64, unique=True, verbose_name=_("token hash"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    last_used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last used at"))

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self):
        return f"Change calendar feed of {self.user}"

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(32)


# CAB ------------------------------------------------------------------------------------------


class CabMeeting(models.Model):
    """A change advisory board meeting: its members, its agenda (changes awaiting CAB in a
    date range), and the decisions taken item by item, written into its minutes."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")

    title = models.CharField(max_length=200, verbose_name=_("title"))
    starts_at = models.DateTimeField(verbose_name=_("starts at"))
    ends_at = models.DateTimeField(verbose_name=_("ends at"))
    location = models.CharField(max_length=200, blank=True, verbose_name=_("location"))
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("chair"),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="cabs", verbose_name=_("members")
    )
    #: The agenda's filter: changes awaiting CAB planned to start in [from, to].
    agenda_from = models.DateField(null=True, blank=True, verbose_name=_("agenda from"))
    agenda_to = models.DateField(null=True, blank=True, verbose_name=_("agenda to"))
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.PLANNED, verbose_name=_("status")
    )
    minutes = models.TextField(blank=True, verbose_name=_("minutes"))
    minutes_sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("minutes sent at"))
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )

    class Meta:
        ordering = ["-starts_at", "pk"]
        verbose_name = _("cab meeting")
        verbose_name_plural = _("cab meetings")

    def __str__(self):
        return f"{self.title} ({self.starts_at:%Y-%m-%d})"

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The meeting ends after it starts.")})


class AgendaItem(models.Model):
    class Decision(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        DEFERRED = "deferred", _("Deferred")

    meeting = models.ForeignKey(
        CabMeeting, on_delete=models.CASCADE, related_name="items", verbose_name=_("meeting")
    )
    change = models.ForeignKey(
        Change, on_delete=models.CASCADE, related_name="agenda_items", verbose_name=_("change")
    )
    order = models.PositiveIntegerField(default=1, verbose_name=_("order"))
    minutes_allotted = models.PositiveIntegerField(default=10, verbose_name=_("minutes allotted"))
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    decision = models.CharField(
        max_length=10,
        choices=Decision.choices,
        default=Decision.PENDING,
        verbose_name=_("decision"),
    )
    comment = models.TextField(blank=True, verbose_name=_("comment"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))

    class Meta:
        ordering = ["meeting", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "change"], name="one_agenda_item_per_change")
        ]
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")

    def __str__(self):
        return f"{self.meeting}: {self.order}. {self.change.number}"
