from django.core.exceptions import ValidationError
from django.db import models


class Service(models.Model):
    """A service as the service catalogue knows it (extended by the catalogue issue)."""

    class Status(models.TextChoices):
        PIPELINE = "pipeline", "Pipeline"
        LIVE = "live", "Live"
        RETIRED = "retired", "Retired"

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    owner_team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="services"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.LIVE)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class CatalogueCategory(models.Model):
    """A shelf of the request catalogue (Hardware, Software, Access…)."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=100)

    class Meta:
        ordering = ["order", "name"]
        verbose_name_plural = "catalogue categories"

    def __str__(self):
        return self.name


class CatalogueItemQuerySet(models.QuerySet):
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
        EVERYONE = "everyone", "Everyone"
        ORGANIZATIONS = "organizations", "Named organizations"
        ROLES = "roles", "Named roles"

    name = models.CharField(max_length=150)
    short_description = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    category = models.ForeignKey(CatalogueCategory, on_delete=models.PROTECT, related_name="items")
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.SET_NULL, related_name="catalogue_items"
    )
    active = models.BooleanField(default=True)
    audience = models.CharField(max_length=20, choices=Audience.choices, default=Audience.EVERYONE)
    organizations = models.ManyToManyField("accounts.Organization", blank=True, related_name="+")
    roles = models.CharField(
        max_length=200,
        blank=True,
        help_text="Roles that may order, comma-separated (audience: roles).",
    )
    expected_delivery = models.DurationField(null=True, blank=True)
    cost = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    order = models.PositiveIntegerField(default=100)

    objects = CatalogueItemQuerySet.as_manager()

    class Meta:
        ordering = ["category__order", "order", "name"]

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
        TEXT = "text", "Text"
        MULTILINE = "multiline", "Multi-line text"
        NUMBER = "number", "Number"
        CHOICE = "choice", "Single choice"
        MULTICHOICE = "multichoice", "Multiple choice"
        DATE = "date", "Date"
        DATETIME = "datetime", "Date and time"
        BOOLEAN = "boolean", "Yes/no"
        USER = "user", "User reference"
        CI = "ci", "Configuration item reference"
        ATTACHMENT = "attachment", "Attachment"

    item = models.ForeignKey(CatalogueItem, on_delete=models.CASCADE, related_name="variables")
    name = models.SlugField(max_length=60, help_text="The key in answers, e.g. laptop_model.")
    label = models.CharField(max_length=200)
    type = models.CharField(max_length=12, choices=Type.choices, default=Type.TEXT)
    required = models.BooleanField(default=False)
    default = models.JSONField(null=True, blank=True)
    help_text = models.CharField(max_length=300, blank=True)
    choices = models.JSONField(
        default=list, blank=True, help_text='For choices: [{"value": "mac", "label": "MacBook"}]'
    )
    regex = models.CharField(max_length=300, blank=True, help_text="Text must match (whole).")
    min_value = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    max_value = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    min_length = models.PositiveIntegerField(null=True, blank=True)
    max_length = models.PositiveIntegerField(null=True, blank=True)
    show_when = models.JSONField(
        default=dict,
        blank=True,
        help_text='Shown only when another variable has a value: {"variable": "kind", "equals": "laptop"}',
    )
    require_when = models.JSONField(
        default=dict,
        blank=True,
        help_text='Required when: {"variable": "kind", "equals": "laptop"}',
    )
    order = models.PositiveIntegerField(default=100)

    class Meta:
        ordering = ["item", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["item", "name"], name="unique_variable_name")
        ]

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
