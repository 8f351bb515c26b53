"""Service configuration management: CI classes with their attribute definitions,
configuration items, typed relationships, identification keys and data sources.

A CI's history (attribute, status and relationship changes) is written to the kernel's
journal, like every record's timeline."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from itsm.core.models import Tracked, TrackedQuerySet

KEY = RegexValidator(
    r"^[a-z][a-z0-9_]*$", "Lower-case letters, digits and underscores, starting with a letter."
)


class CIClass(models.Model):
    """A kind of CI (server, database, business service…), in a hierarchy: a class has
    its own attributes and inherits its ancestors' attributes and identification rules."""

    key = models.CharField(max_length=50, unique=True, validators=[KEY], verbose_name=_("key"))
    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("parent"),
    )
    description = models.TextField(blank=True, verbose_name=_("description"))
    #: Lists of attribute keys; a CI is the same CI as another of this class (or a
    #: subclass) when all keys of one rule have equal values, e.g.
    #: ``[["serial_number"], ["hostname", "domain"]]``. ``name`` may be used too.
    identification_rules = models.JSONField(
        default=list, blank=True, verbose_name=_("identification rules")
    )
    #: A business service: what impact analysis reports as the services affected.
    is_service = models.BooleanField(
        default=False,
        help_text=_("CIs of this class are business services."),
        verbose_name=_("is service"),
    )
    #: Hardware on which software can be installed (licence compliance counts these).
    is_hardware = models.BooleanField(default=False, verbose_name=_("is hardware"))
    #: Software (licence compliance counts its installations on hardware).
    is_software = models.BooleanField(default=False, verbose_name=_("is software"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("CI class")
        verbose_name_plural = _("CI classes")

    def __str__(self):
        return self.name

    @property
    def reference(self) -> str:
        return f"CI {self.name}"

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._saved_rules = instance.__dict__.get("identification_rules")
        return instance

    @property
    def rules_changed(self) -> bool:
        return (
            self.pk is not None and getattr(self, "_saved_rules", None) != self.identification_rules
        )

    def ancestors(self) -> list["CIClass"]:
        """Parent first, root last; stops at a cycle."""
        found, current, seen = [], self.parent, {self.pk}
        while current is not None and current.pk not in seen:
            found.append(current)
            seen.add(current.pk)
            current = current.parent
        return found

    def clean(self):
        errors = {}
        current, seen = self.parent, set()
        while current is not None and self.pk is not None:
            if current.pk == self.pk:
                errors["parent"] = "A class cannot sit below itself."
                break
            if current.pk in seen:
                break
            seen.add(current.pk)
            current = current.parent
        rules = self.identification_rules
        if not isinstance(rules, list) or not all(
            isinstance(rule, list) and rule and all(isinstance(k, str) and k for k in rule)
            for rule in rules
        ):
            errors["identification_rules"] = (
                'A list of rules, each a list of attribute keys: [["serial_number"], '
                '["hostname", "domain"]].'
            )
        else:
            chain = [c.pk for c in self.ancestors()] + ([self.pk] if self.pk else [])
            known = {"name"} | set(
                AttributeDefinition.objects.filter(ci_class__in=chain).values_list("key", flat=True)
            )
            unknown = sorted({k for rule in rules for k in rule} - known)
            if unknown:
                errors["identification_rules"] = (
                    f"Not attributes of this class or its parents: {', '.join(unknown)} "
                    "(add the attributes first)."
                )
        if not errors and self.rules_changed:
            from .attributes import Schemas
            from .services import identification_clashes

            schemas = Schemas()
            schemas.classes[self.pk] = self
            clash = identification_clashes(self, schemas)
            if clash:
                errors["identification_rules"] = clash
        if self.pk is not None and "parent" not in errors:
            from .attributes import descendant_ids

            below = AttributeDefinition.objects.filter(ci_class__in=descendant_ids(self))
            above = AttributeDefinition.objects.filter(
                ci_class__in=[c.pk for c in self.ancestors()]
            )
            clash = sorted(
                set(below.values_list("key", flat=True)) & set(above.values_list("key", flat=True))
            )
            if clash:
                errors["parent"] = f"The new parent's classes already define {', '.join(clash)}."
        if errors:
            raise ValidationError(errors)


#: Attribute keys that would read as a CI's own fields.
RESERVED_KEYS = frozenset(
    {
        "name",
        "class",
        "ci_class",
        "status",
        "environment",
        "description",
        "owner_team",
        "support_team",
        "location",
        "id",
        "row",
    }
)


class AttributeDefinition(models.Model):
    """One attribute CIs of a class (and its subclasses) carry."""

    class Type(models.TextChoices):
        TEXT = "text", _("Text")
        INTEGER = "integer", _("Whole number")
        DECIMAL = "decimal", _("Decimal number")
        BOOLEAN = "boolean", _("Yes / no")
        DATE = "date", _("Date")
        CHOICE = "choice", _("Choice")
        IP_ADDRESS = "ip_address", _("IP address")
        URL = "url", _("URL")
        EMAIL = "email", _("Email address")

    ci_class = models.ForeignKey(
        CIClass, on_delete=models.CASCADE, related_name="attributes", verbose_name=_("ci class")
    )
    key = models.CharField(max_length=50, validators=[KEY], verbose_name=_("key"))
    label = models.CharField(max_length=100, verbose_name=_("label"))
    type = models.CharField(
        max_length=20, choices=Type.choices, default=Type.TEXT, verbose_name=_("type")
    )
    required = models.BooleanField(default=False, verbose_name=_("required"))
    unique = models.BooleanField(
        default=False,
        help_text=_("No two CIs of this class and its subclasses may share a value."),
        verbose_name=_("unique"),
    )
    choices = models.JSONField(
        default=list,
        blank=True,
        help_text=_("The allowed values of a choice attribute."),
        verbose_name=_("choices"),
    )
    help_text = models.CharField(max_length=200, blank=True, verbose_name=_("help text"))
    order = models.PositiveSmallIntegerField(default=0, verbose_name=_("order"))

    class Meta:
        ordering = ["order", "key"]
        constraints = [
            models.UniqueConstraint(fields=["ci_class", "key"], name="unique_attribute_per_class")
        ]
        verbose_name = _("attribute definition")
        verbose_name_plural = _("attribute definitions")

    def __str__(self):
        return f"{self.ci_class}: {self.label}"

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._saved = (instance.__dict__.get("key"), instance.__dict__.get("unique"))
        return instance

    @property
    def identity_changed(self) -> bool:
        saved = getattr(self, "_saved", None)
        return (saved is None and self.unique) or (
            saved is not None
            and (saved[1] != self.unique or (self.unique and saved[0] != self.key))
        )

    def holders(self, key=None) -> int:
        """How many CIs of the class and below hold a value for this attribute."""
        from .attributes import descendant_ids

        if not self.ci_class_id:
            return 0
        return ConfigurationItem.objects.filter(
            ci_class_id__in=descendant_ids(self.ci_class), attributes__has_key=key or self.key
        ).count()

    def delete(self, *args, **kwargs):
        held = self.holders()
        if held:
            raise ValidationError(
                ngettext(
                    "%(count)d CI holds a value for %(key)s; clear it before removing it.",
                    "%(count)d CIs hold a value for %(key)s; clear them before removing it.",
                    held,
                )
                % {"count": held, "key": self.key}
            )
        return super().delete(*args, **kwargs)

    def clean(self):
        errors = {}
        if self.key in RESERVED_KEYS:
            errors["key"] = f"{self.key} is a field of every CI; choose another key."
        if self.type == self.Type.CHOICE and (
            not isinstance(self.choices, list)
            or not self.choices
            or not all(isinstance(c, str) and c for c in self.choices)
        ):
            errors["choices"] = "A choice attribute needs a list of values."
        if self.ci_class_id and self.key and "key" not in errors:
            from .attributes import descendant_ids

            ci_class = self.ci_class
            related = {c.pk for c in ci_class.ancestors()} | set(descendant_ids(ci_class))
            clash = (
                AttributeDefinition.objects.filter(ci_class_id__in=related, key=self.key)
                .exclude(pk=self.pk)
                .select_related("ci_class")
                .first()
            )
            if clash is not None:
                errors["key"] = gettext("%(ci_class)s already defines %(key)s.") % {
                    "ci_class": clash.ci_class.name,
                    "key": self.key,
                }
        saved = getattr(self, "_saved", None)
        if not errors and saved is not None and saved[0] != self.key:
            held = self.holders(saved[0])
            if held:
                errors["key"] = ngettext(
                    "%(count)d CI holds a value for %(key)s; it cannot be renamed.",
                    "%(count)d CIs hold a value for %(key)s; it cannot be renamed.",
                    held,
                ) % {"count": held, "key": saved[0]}
        if not errors and self.ci_class_id and self.identity_changed and self.unique:
            from .attributes import Schemas
            from .services import identification_clashes

            schemas = Schemas()
            own = [d for d in schemas.own.get(self.ci_class_id, []) if d.pk != self.pk]
            schemas.own[self.ci_class_id] = [*own, self]
            clash_text = identification_clashes(self.ci_class, schemas)
            if clash_text:
                errors["unique"] = clash_text
        if errors:
            raise ValidationError(errors)


class Status(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_BUILD = "in_build", _("In build")
    LIVE = "live", _("Live")
    MAINTENANCE = "maintenance", _("Maintenance")
    RETIRED = "retired", _("Retired")


class Environment(models.TextChoices):
    PRODUCTION = "production", _("Production")
    STAGING = "staging", _("Staging")
    TEST = "test", _("Test")
    DEVELOPMENT = "development", _("Development")
    DISASTER_RECOVERY = "disaster_recovery", _("Disaster recovery")


class DataSource(models.Model):
    """Where imported CI data comes from (a discovery tool, a cloud inventory, a CSV…)
    and which attributes it is trusted for."""

    key = models.CharField(max_length=50, unique=True, validators=[KEY], verbose_name=_("key"))
    name = models.CharField(max_length=100, verbose_name=_("name"))
    #: Attribute keys (and the fields ``name``, ``status``, ``environment``, ``location``…)
    #: this source may set; empty means all.
    trusted_fields = models.JSONField(default=list, blank=True, verbose_name=_("trusted fields"))
    #: Relationship types (keys) this source may create; empty means all.
    trusted_relationship_types = models.JSONField(
        default=list, blank=True, verbose_name=_("trusted relationship types")
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("data source")
        verbose_name_plural = _("data sources")

    def __str__(self):
        return self.name

    @property
    def reference(self) -> str:
        return f"CI {self.name}"

    def clean(self):
        errors = {}
        for name in ("trusted_fields", "trusted_relationship_types"):
            value = getattr(self, name)
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                errors[name] = 'A list of names, e.g. ["status", "serial_number"]; empty for all.'
        if errors:
            raise ValidationError(errors)

    def trusts(self, field: str) -> bool:
        trusted = self.trusted_fields if isinstance(self.trusted_fields, list) else []
        return not trusted or field in trusted


class ConfigurationItemQuerySet(TrackedQuerySet):
    """Staff see the CMDB; end users see no CI directly (they pick from lists the
    catalogue offers them): the kernel's default rule.

    Separated by organization, a CI belongs to the customers its owner or support team
    serves: staff see those of the customers they serve, and the internal ones (whose
    teams serve no customer, or that have none)."""

    def separation_scope(self, separation):
        if separation.mode != "organizations":
            return None
        serving = separation.serving_team_ids
        customers = separation.customer_team_ids
        return (
            models.Q(owner_team__in=serving)
            | models.Q(support_team__in=serving)
            | (~models.Q(owner_team__in=customers) & ~models.Q(support_team__in=customers))
        )


class ConfigurationItem(Tracked):
    ETAG_PREFIX = "ci"
    Status = Status
    Environment = Environment

    name = models.CharField(max_length=200, db_index=True, verbose_name=_("name"))
    #: The name as lists sort it: "db-01" next to "DB-02", not after every capital. Kept by
    #: the database; lists, pickers and the API's ``ordering=name`` sort by it (with the id
    #: after it, indexed, so a keyset page seeks to its place).
    sort_name = models.GeneratedField(
        expression=Lower("name"),
        output_field=models.CharField(max_length=200),
        db_persist=True,
        verbose_name=_("sort name"),
    )
    ci_class = models.ForeignKey(
        CIClass, on_delete=models.PROTECT, related_name="items", verbose_name=_("ci class")
    )
    status = models.CharField(
        max_length=20,
        choices=Status.choices,
        default=Status.LIVE,
        db_index=True,
        verbose_name=_("status"),
    )
    environment = models.CharField(
        max_length=20,
        choices=Environment.choices,
        default=Environment.PRODUCTION,
        verbose_name=_("environment"),
    )
    description = models.TextField(blank=True, verbose_name=_("description"))
    owner_team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="configuration_items",
        verbose_name=_("owner team"),
    )
    support_team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="supported_configuration_items",
        verbose_name=_("support team"),
    )
    location = models.ForeignKey(
        "accounts.Location",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="configuration_items",
        verbose_name=_("location"),
    )
    attributes = models.JSONField(default=dict, blank=True, verbose_name=_("attributes"))

    objects = ConfigurationItemQuerySet.as_manager()

    class Meta:
        ordering = ["sort_name", "id"]
        verbose_name = _("configuration item")
        indexes = [
            models.Index(fields=["ci_class", "status"]),
            models.Index(fields=["sort_name", "id"], name="cmdb_ci_sort_name_idx"),
        ]
        verbose_name_plural = _("configuration items")

    def __str__(self):
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("cmdb:detail", args=[self.pk])

    @property
    def reference(self) -> str:
        return f"CI {self.name}"


class CIKey(models.Model):
    """An identification key of a CI: the normalised value of one identification rule or
    unique attribute, unique within the class that defines it. The database's unique
    constraint is what keeps two imports from creating the same CI twice."""

    ci = models.ForeignKey(
        ConfigurationItem, on_delete=models.CASCADE, related_name="keys", verbose_name=_("ci")
    )
    scope = models.ForeignKey(
        CIClass, on_delete=models.CASCADE, related_name="+", verbose_name=_("scope")
    )
    rule = models.CharField(max_length=200, verbose_name=_("rule"))
    value = models.CharField(max_length=500, verbose_name=_("value"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "rule", "value"], name="unique_ci_key")
        ]
        indexes = [models.Index(fields=["value"])]
        verbose_name = _("ci key")
        verbose_name_plural = _("ci keys")

    def __str__(self):
        return f"{self.rule}={self.value}"


class RelationshipType(models.Model):
    """A kind of relationship, read both ways ("depends on" / "used by"), and the way an
    outage travels along it."""

    class Spread(models.TextChoices):
        TO_SOURCE = "to_source", _("From target to source (the source is affected)")
        TO_TARGET = "to_target", _("From source to target (the target is affected)")
        BOTH = "both", _("Both ways")
        NONE = "none", _("Does not spread")

    key = models.CharField(max_length=50, unique=True, validators=[KEY], verbose_name=_("key"))
    name = models.CharField(
        max_length=100, help_text=_('Read from the source: "depends on".'), verbose_name=_("name")
    )
    reverse_name = models.CharField(
        max_length=100,
        help_text=_('Read from the target: "used by".'),
        verbose_name=_("reverse name"),
    )
    outage_spreads = models.CharField(
        max_length=10, choices=Spread.choices, verbose_name=_("outage spreads")
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("relationship type")
        verbose_name_plural = _("relationship types")

    def __str__(self):
        return f"{self.name} / {self.reverse_name}"


class Relationship(models.Model):
    source = models.ForeignKey(
        ConfigurationItem,
        on_delete=models.CASCADE,
        related_name="outgoing_relationships",
        verbose_name=_("source"),
    )
    type = models.ForeignKey(
        RelationshipType, on_delete=models.PROTECT, related_name="+", verbose_name=_("type")
    )
    target = models.ForeignKey(
        ConfigurationItem,
        on_delete=models.CASCADE,
        related_name="incoming_relationships",
        verbose_name=_("target"),
    )
    data_source = models.ForeignKey(
        DataSource,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("data source"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "type", "target"], name="unique_relationship"
            ),
            models.CheckConstraint(condition=~Q(source=F("target")), name="relationship_not_self"),
        ]
        indexes = [models.Index(fields=["target", "type"])]
        verbose_name = _("relationship")
        verbose_name_plural = _("relationships")

    def __str__(self):
        return f"{self.source} {self.type.name} {self.target}"


class ImportRun(models.Model):
    """One batch import: what it was asked to do and what it did, row by row."""

    class Status(models.TextChoices):
        PREVIEW = "preview", _("Preview")
        APPLIED = "applied", _("Applied")
        FAILED = "failed", _("Failed")

    data_source = models.ForeignKey(
        DataSource, on_delete=models.PROTECT, related_name="runs", verbose_name=_("data source")
    )
    status = models.CharField(max_length=10, choices=Status.choices, verbose_name=_("status"))
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("started by"),
    )
    started_at = models.DateTimeField(default=timezone.now, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    created = models.PositiveIntegerField(default=0, verbose_name=_("created"))
    updated = models.PositiveIntegerField(default=0, verbose_name=_("updated"))
    unchanged = models.PositiveIntegerField(default=0, verbose_name=_("unchanged"))
    relationships_created = models.PositiveIntegerField(
        default=0, verbose_name=_("relationships created")
    )
    failed = models.PositiveIntegerField(default=0, verbose_name=_("failed"))
    #: What was sent (kept from a preview until it is applied).
    payload = models.JSONField(default=dict, blank=True, verbose_name=_("payload"))
    #: Row by row: {"row", "kind" (ci / relationship), "action" (create, update,
    #: unchanged, error), "ci", "name", "changes", "errors"}; every error is kept, other
    #: rows up to ``RESULT_ROWS``.
    results = models.JSONField(default=list, blank=True, verbose_name=_("results"))

    RESULT_ROWS = 2000

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")

    def __str__(self):
        return f"{self.data_source} import {self.started_at:%Y-%m-%d %H:%M}"
