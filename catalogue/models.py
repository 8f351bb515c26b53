from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from itsm.core.approvals import AbstractApproval, AbstractApprovalLevel
from itsm.core.models import Record, RecordQuerySet

from .workflows import RequestState, TaskState, request_workflow, task_workflow


class ServiceQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Staff see the portfolio; everyone else the live services (the catalogue)."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_agent:
            return self
        return self.filter(status=Service.Status.LIVE)


class Service(models.Model):
    """A service in the service portfolio: pipeline, live (the service catalogue) or retired."""

    class Status(models.TextChoices):
        PIPELINE = "pipeline", _("Pipeline")
        LIVE = "live", _("Live")
        RETIRED = "retired", _("Retired")

    class Type(models.TextChoices):
        BUSINESS = "business", _("Business service")
        TECHNICAL = "technical", _("Technical service")

    name = models.CharField(max_length=200, unique=True, verbose_name=_("name"))
    description = models.TextField(
        blank=True,
        help_text=_("For IT: scope, dependencies, support."),
        verbose_name=_("description"),
    )
    user_description = models.TextField(
        blank=True,
        help_text=_("Written for the people who use it: what it does for them."),
        verbose_name=_("user description"),
    )
    type = models.CharField(
        max_length=10, choices=Type.choices, default=Type.BUSINESS, verbose_name=_("type")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="services_owned",
        help_text=_("The service owner."),
        verbose_name=_("owner"),
    )
    owner_team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="services",
        verbose_name=_("owner team"),
    )
    support_team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="services_supported",
        verbose_name=_("support team"),
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.LIVE, verbose_name=_("status")
    )
    agreements = models.ManyToManyField(
        "service_level.Agreement",
        blank=True,
        related_name="services",
        help_text=_("Related SLAs."),
        verbose_name=_("agreements"),
    )

    objects = ServiceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("service")
        verbose_name_plural = _("services")

    def __str__(self):
        return self.name


class ServiceOffering(models.Model):
    """A packaged level of a service (e.g. "E-mail: standard mailbox" vs "executive")."""

    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="offerings", verbose_name=_("service")
    )
    name = models.CharField(max_length=150, verbose_name=_("name"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    agreement = models.ForeignKey(
        "service_level.Agreement",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The service level of this offering."),
        verbose_name=_("agreement"),
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))

    class Meta:
        ordering = ["service", "name"]
        constraints = [
            models.UniqueConstraint(fields=["service", "name"], name="unique_offering_name")
        ]
        verbose_name = _("service offering")
        verbose_name_plural = _("service offerings")

    def __str__(self):
        return f"{self.service}: {self.name}"


class CatalogueCategory(models.Model):
    """A shelf of the request catalogue (Hardware, Software, Access…)."""

    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    order = models.PositiveIntegerField(default=100, verbose_name=_("order"))

    class Meta:
        ordering = ["order", "name"]
        verbose_name_plural = _("catalogue categories")
        verbose_name = _("catalogue category")

    def __str__(self):
        return self.name


class CatalogueItemQuerySet(models.QuerySet):
    def visible_to(self, user):
        if user.is_authenticated and user.is_agent:
            return self
        return self.orderable_by(user)

    def orderable_by(self, user):
        """Active items this user may order: everyone's, their organization's, their role's."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        items = self.filter(active=True)
        if user.is_agent and user.is_superuser:
            return items
        open_to_all = models.Q(audience=CatalogueItem.Audience.EVERYONE)
        by_org = models.Q(
            audience=CatalogueItem.Audience.ORGANIZATIONS, organizations=user.organization_id
        )
        by_role = models.Q(audience=CatalogueItem.Audience.ROLES, roles__contains=f",{user.role},")
        return items.filter(open_to_all | by_org | by_role).distinct()


class CatalogueItem(models.Model):
    """Something users may request: its form (variables), who may order it, what it costs
    and how long it takes."""

    class Audience(models.TextChoices):
        EVERYONE = "everyone", _("Everyone")
        ORGANIZATIONS = "organizations", _("Named organizations")
        ROLES = "roles", _("Named roles")

    name = models.CharField(max_length=150, verbose_name=_("name"))
    short_description = models.CharField(
        max_length=300, blank=True, verbose_name=_("short description")
    )
    description = models.TextField(blank=True, verbose_name=_("description"))
    category = models.ForeignKey(
        CatalogueCategory,
        on_delete=models.PROTECT,
        related_name="items",
        verbose_name=_("category"),
    )
    service = models.ForeignKey(
        Service,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="catalogue_items",
        verbose_name=_("service"),
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))
    audience = models.CharField(
        max_length=20,
        choices=Audience.choices,
        default=Audience.EVERYONE,
        verbose_name=_("audience"),
    )
    organizations = models.ManyToManyField(
        "accounts.Organization", blank=True, related_name="+", verbose_name=_("organizations")
    )
    roles = models.CharField(
        max_length=200,
        blank=True,
        help_text=_("Roles that may order, comma-separated (audience: roles)."),
        verbose_name=_("roles"),
    )
    expected_delivery = models.DurationField(
        null=True, blank=True, verbose_name=_("expected delivery")
    )
    cost = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True, verbose_name=_("cost")
    )
    order = models.PositiveIntegerField(default=100, verbose_name=_("order"))

    objects = CatalogueItemQuerySet.as_manager()

    class Meta:
        ordering = ["category__order", "order", "name"]
        verbose_name = _("catalogue item")
        verbose_name_plural = _("catalogue items")

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # Stored as ",agent,manager," so that a role is matched whole, never as a substring.
        roles = sorted({r.strip() for r in self.roles.split(",") if r.strip()})
        self.roles = f",{','.join(roles)}," if roles else ""
        super().save(*args, **kwargs)

    @property
    def role_list(self) -> list[str]:
        return [r for r in self.roles.split(",") if r]


class Variable(models.Model):
    """One question of a catalogue item's form."""

    class Type(models.TextChoices):
        TEXT = "text", _("Text")
        MULTILINE = "multiline", _("Multi-line text")
        NUMBER = "number", _("Number")
        CHOICE = "choice", _("Single choice")
        MULTICHOICE = "multichoice", _("Multiple choice")
        DATE = "date", _("Date")
        DATETIME = "datetime", _("Date and time")
        BOOLEAN = "boolean", _("Yes/no")
        USER = "user", _("User reference")
        CI = "ci", _("Configuration item reference")
        ATTACHMENT = "attachment", _("Attachment")

    item = models.ForeignKey(
        CatalogueItem, on_delete=models.CASCADE, related_name="variables", verbose_name=_("item")
    )
    name = models.SlugField(
        max_length=60, help_text=_("The key in answers, e.g. laptop_model."), verbose_name=_("name")
    )
    label = models.CharField(max_length=200, verbose_name=_("label"))
    type = models.CharField(
        max_length=12, choices=Type.choices, default=Type.TEXT, verbose_name=_("type")
    )
    required = models.BooleanField(default=False, verbose_name=_("required"))
    default = models.JSONField(null=True, blank=True, verbose_name=_("default"))
    help_text = models.CharField(max_length=300, blank=True, verbose_name=_("help text"))
    choices = models.JSONField(
        default=list,
        blank=True,
        help_text=_('For choices: [{"value": "mac", "label": "MacBook"}]'),
        verbose_name=_("choices"),
    )
    regex = models.CharField(
        max_length=300, blank=True, help_text=_("Text must match (whole)."), verbose_name=_("regex")
    )
    min_value = models.DecimalField(
        max_digits=14, decimal_places=4, null=True, blank=True, verbose_name=_("min value")
    )
    max_value = models.DecimalField(
        max_digits=14, decimal_places=4, null=True, blank=True, verbose_name=_("max value")
    )
    min_length = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("min length"))
    max_length = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("max length"))
    show_when = models.JSONField(
        default=dict,
        blank=True,
        help_text=_(
            'Shown only when another variable has a value: {"variable": "kind", "equals": "laptop"}'
        ),
        verbose_name=_("show when"),
    )
    require_when = models.JSONField(
        default=dict,
        blank=True,
        help_text=_('Required when: {"variable": "kind", "equals": "laptop"}'),
        verbose_name=_("require when"),
    )
    order = models.PositiveIntegerField(default=100, verbose_name=_("order"))

    class Meta:
        ordering = ["item", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["item", "name"], name="unique_variable_name")
        ]
        verbose_name = _("variable")
        verbose_name_plural = _("variables")

    def __str__(self):
        return f"{self.item}: {self.label}"

    def clean(self):
        import re

        errors = {}
        if self.regex:
            try:
                re.compile(self.regex)
            except re.error as exc:
                errors["regex"] = f"Not a valid regular expression: {exc}."
        if self.type in (self.Type.CHOICE, self.Type.MULTICHOICE):
            if (
                not isinstance(self.choices, list)
                or not self.choices
                or not all(
                    isinstance(c, dict) and isinstance(c.get("value"), str) for c in self.choices
                )
            ):
                errors["choices"] = 'A list of choices: [{"value": "mac", "label": "MacBook"}].'
        for name in ("show_when", "require_when"):
            condition = getattr(self, name)
            if condition and (
                not isinstance(condition, dict)
                or set(condition) != {"variable", "equals"}
                or condition["variable"] == self.name
            ):
                errors[name] = (
                    'A condition on another variable: {"variable": "kind", "equals": "laptop"}.'
                )
        if (
            self.min_value is not None
            and self.max_value is not None
            and self.min_value > self.max_value
        ):
            errors["max_value"] = "The maximum is below the minimum."
        if errors:
            raise ValidationError(errors)


class ApprovalLevel(AbstractApprovalLevel):
    """One level of an item's approval policy (the kernel's levels); levels are decided
    in order."""

    class Kind(models.TextChoices):
        MANAGER = "manager", _("The requested-for person's manager")
        TEAM_ANY = "team_any", _("Any one member of a team")
        TEAM_ALL = "team_all", _("Every member of a team")

    TEAM_KINDS = frozenset({Kind.TEAM_ANY, Kind.TEAM_ALL})

    item = models.ForeignKey(
        CatalogueItem,
        on_delete=models.CASCADE,
        related_name="approval_levels",
        verbose_name=_("item"),
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, verbose_name=_("kind"))

    class Meta:
        ordering = ["item", "order"]
        constraints = [
            models.UniqueConstraint(fields=["item", "order"], name="one_approval_level_per_order")
        ]
        verbose_name = _("approval level")
        verbose_name_plural = _("approval levels")

    def __str__(self):
        return f"{self.item}: level {self.order} ({self.get_kind_display()})"


class TaskTemplate(models.Model):
    """A fulfilment task of an item: stages run one after another, the tasks of one stage
    in parallel."""

    item = models.ForeignKey(
        CatalogueItem,
        on_delete=models.CASCADE,
        related_name="task_templates",
        verbose_name=_("item"),
    )
    stage = models.PositiveIntegerField(default=1, verbose_name=_("stage"))
    title = models.CharField(max_length=200, verbose_name=_("title"))
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.PROTECT, related_name="+", verbose_name=_("team")
    )

    class Meta:
        ordering = ["item", "stage", "pk"]
        verbose_name = _("task template")
        verbose_name_plural = _("task templates")

    def __str__(self):
        return f"{self.item}: {self.stage}. {self.title}"


class ServiceRequestQuerySet(RecordQuerySet):
    def for_end_user(self, user):
        """Anyone sees the requests they ordered or that are for them (staff: and those
        the kernel's ``visible_to`` shows them)."""
        return self.filter(models.Q(requester=user) | models.Q(requested_for=user))


class ServiceRequest(Record):
    """A request for a catalogue item, for oneself or on behalf of someone."""

    NUMBER_PREFIX = "REQ"
    DETAIL_URL_NAME = "fulfilment:request"
    REQUESTER_FIELD = "requested_for"
    workflow = request_workflow

    state = models.CharField(
        max_length=30,
        choices=RequestState.choices,
        default=RequestState.SUBMITTED,
        db_index=True,
        verbose_name=_("state"),
    )
    item = models.ForeignKey(
        CatalogueItem, on_delete=models.PROTECT, related_name="requests", verbose_name=_("item")
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="requests_made",
        verbose_name=_("requester"),
    )
    requested_for = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="requests_for",
        verbose_name=_("requested for"),
    )
    variables = models.JSONField(default=dict, blank=True, verbose_name=_("variables"))
    approval_level = models.PositiveIntegerField(
        default=0, editable=False, verbose_name=_("approval level")
    )
    rejection_reason = models.TextField(blank=True, verbose_name=_("rejection reason"))
    fulfilled_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("fulfilled at")
    )
    closed_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("closed at")
    )
    #: Its SLA timers (the request and its tasks' pages show them).
    sla_timers = GenericRelation("service_level.Timer")

    objects = ServiceRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["requested_for", "-created_at"], name="req_for"),
            models.Index(fields=["requester", "-created_at"], name="req_by"),
            models.Index(fields=["state", "-created_at"], name="req_state"),
        ]
        verbose_name = _("service request")
        verbose_name_plural = _("service requests")


class Approval(AbstractApproval):
    """One approver's decision on one level of a request."""

    request = models.ForeignKey(
        ServiceRequest,
        on_delete=models.CASCADE,
        related_name="approvals",
        verbose_name=_("request"),
    )

    class Meta:
        ordering = ["request", "level", "pk"]
        indexes = [models.Index(fields=["approver", "decision"], name="approval_inbox")]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "level", "approver"], name="one_approval_per_approver_level"
            )
        ]
        verbose_name = _("approval")
        verbose_name_plural = _("approvals")

    def __str__(self):
        return f"{self.request.number} level {self.level}: {self.approver} {self.decision}"


class FulfilmentTaskQuerySet(RecordQuerySet):
    """Tasks are staff work; the person they are for is their request's."""

    def requester_path(self):
        return "request__requested_for"

    def for_end_user(self, user):
        return self.none()


class FulfilmentTask(Record):
    """Work a team does to fulfil a request."""

    NUMBER_PREFIX = "TASK"
    DETAIL_URL_NAME = "fulfilment:task"
    REQUESTER_FIELD = "requested_for"
    workflow = task_workflow

    state = models.CharField(
        max_length=20,
        choices=TaskState.choices,
        default=TaskState.OPEN,
        db_index=True,
        verbose_name=_("state"),
    )
    request = models.ForeignKey(
        ServiceRequest, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("request")
    )
    stage = models.PositiveIntegerField(default=1, verbose_name=_("stage"))
    closed_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("closed at")
    )

    objects = FulfilmentTaskQuerySet.as_manager()

    class Meta:
        ordering = ["request", "stage", "pk"]
        indexes = [models.Index(fields=["assignment_group", "state"], name="task_group")]
        verbose_name = _("fulfilment task")
        verbose_name_plural = _("fulfilment tasks")

    @property
    def requested_for(self):
        return self.request.requested_for

    @property
    def requested_for_id(self):
        return self.request.requested_for_id
