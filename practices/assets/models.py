"""IT asset management: the asset register, suppliers, contracts (and the reminders sent
before they renew or expire) and software licences.

Who may see what is decided once per model, by its queryset's ``visible_to(user)``. Every
write goes through ``services``; an asset's history is the kernel's journal."""

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from itsm.core.models import Tracked, TrackedQuerySet

from .workflows import AssetState, asset_workflow

CURRENCY = RegexValidator(r"^[A-Z]{3}$", "A three-letter ISO 4217 code, e.g. EUR.")
ASSET_TAG = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
    "Letters, digits, dots, dashes and underscores, starting with a letter or digit.",
)
#: Words used by the asset screens' own paths; no asset tag may be one of them.
RESERVED_TAGS = frozenset({"new", "contracts", "licences", "suppliers"})


class Supplier(Tracked):
    """Suppliers, contracts and licences are for IT staff only (the kernel's default
    ``visible_to``)."""

    name = models.CharField(max_length=200, unique=True, verbose_name=_("name"))
    contact = models.CharField(
        max_length=200, blank=True, help_text=_("The contact person."), verbose_name=_("contact")
    )
    email = models.EmailField(blank=True, verbose_name=_("email"))
    phone = models.CharField(max_length=40, blank=True, verbose_name=_("phone"))
    website = models.URLField(blank=True, verbose_name=_("website"))
    notes = models.TextField(blank=True, verbose_name=_("notes"))

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")

    def __str__(self):
        return self.name


class AssetQuerySet(TrackedQuerySet):
    """Staff see the whole register (separated by organization: the assets of the
    customers they serve, and internal ones); an end user the assets assigned to them."""

    def for_end_user(self, user):
        return self.filter(assigned_to=user)

    def separation_scope(self, separation):
        if separation.mode != "organizations":
            return None
        return separation.of_organizations("assigned_to__organization")


class Asset(Tracked):
    """A piece of IT equipment the organization owns or leases, tracked from order to
    disposal."""

    ETAG_FIELD = "asset_tag"
    workflow = asset_workflow

    asset_tag = models.CharField(
        max_length=50, unique=True, validators=[ASSET_TAG], verbose_name=_("asset tag")
    )
    model = models.CharField(
        max_length=200, help_text=_("Make and model, e.g. ThinkPad T14."), verbose_name=_("model")
    )
    serial_number = models.CharField(
        max_length=100, blank=True, db_index=True, verbose_name=_("serial number")
    )
    vendor = models.ForeignKey(
        Supplier,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assets",
        verbose_name=_("vendor"),
    )
    purchase_date = models.DateField(null=True, blank=True, verbose_name=_("purchase date"))
    purchase_cost = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        verbose_name=_("purchase cost"),
    )
    currency = models.CharField(
        max_length=3, default="EUR", validators=[CURRENCY], verbose_name=_("currency")
    )
    warranty_end = models.DateField(null=True, blank=True, verbose_name=_("warranty end"))
    state = models.CharField(
        max_length=20,
        choices=AssetState.choices,
        default=AssetState.ORDERED,
        db_index=True,
        verbose_name=_("state"),
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assets",
        verbose_name=_("assigned to"),
    )
    location = models.ForeignKey(
        "accounts.Location",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assets",
        verbose_name=_("location"),
    )
    configuration_item = models.ForeignKey(
        "cmdb.ConfigurationItem",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assets",
        help_text=_("The CI this asset is, in the CMDB."),
        verbose_name=_("configuration item"),
    )
    notes = models.TextField(blank=True, verbose_name=_("notes"))

    objects = AssetQuerySet.as_manager()

    class Meta:
        ordering = ["asset_tag"]
        indexes = [
            models.Index(fields=["assigned_to", "state"]),
            models.Index(fields=["warranty_end"]),
        ]
        verbose_name = _("asset")
        verbose_name_plural = _("assets")

    def __str__(self):
        return f"{self.asset_tag} {self.model}"

    def get_absolute_url(self) -> str:
        return reverse("assets:detail", kwargs={"tag": self.asset_tag})

    @property
    def state_label(self) -> str:
        return self.workflow.label(self.state)


class Contract(Tracked):
    """A contract with a supplier: support, maintenance, a lease or a licence agreement,
    and the assets and CIs it covers."""

    class Kind(models.TextChoices):
        SUPPORT = "support", _("Support")
        MAINTENANCE = "maintenance", _("Maintenance")
        LEASE = "lease", _("Lease")
        LICENCE = "licence", _("Licence")

    reference = models.CharField(
        max_length=100, unique=True, help_text=_("Contract number."), verbose_name=_("reference")
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, verbose_name=_("kind"))
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="contracts", verbose_name=_("supplier")
    )
    start_date = models.DateField(verbose_name=_("start date"))
    end_date = models.DateField(verbose_name=_("end date"))
    renewal_date = models.DateField(null=True, blank=True, verbose_name=_("renewal date"))
    notice_period_days = models.PositiveSmallIntegerField(
        default=30,
        help_text=_("The owner is reminded this many days before renewal or expiry."),
        verbose_name=_("notice period days"),
    )
    cost_per_year = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        verbose_name=_("cost per year"),
    )
    currency = models.CharField(
        max_length=3, default="EUR", validators=[CURRENCY], verbose_name=_("currency")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contracts_owned",
        verbose_name=_("owner"),
    )
    notes = models.TextField(blank=True, verbose_name=_("notes"))
    assets = models.ManyToManyField(
        Asset, blank=True, related_name="contracts", verbose_name=_("assets")
    )
    configuration_items = models.ManyToManyField(
        "cmdb.ConfigurationItem",
        blank=True,
        related_name="contracts",
        verbose_name=_("configuration items"),
    )

    class Meta:
        ordering = ["end_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="contract_ends_after_start"
            )
        ]
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")

    def __str__(self):
        return f"{self.reference} ({self.supplier})" if self.supplier_id else self.reference

    def get_absolute_url(self) -> str:
        return reverse("assets:contract", args=[self.pk])


class ContractReminder(models.Model):
    """A reminder sent to a contract's owner: one per contract, event and date, so the
    daily task sends each once however often it runs."""

    class Event(models.TextChoices):
        RENEWAL = "renewal", _("Renewal")
        EXPIRY = "expiry", _("Expiry")

    contract = models.ForeignKey(
        Contract, on_delete=models.CASCADE, related_name="reminders", verbose_name=_("contract")
    )
    event = models.CharField(max_length=10, choices=Event.choices, verbose_name=_("event"))
    due_date = models.DateField(
        help_text=_("The renewal or end date reminded of."), verbose_name=_("due date")
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("recipient"),
    )
    sent_at = models.DateTimeField(default=timezone.now, verbose_name=_("sent at"))

    class Meta:
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "event", "due_date"], name="unique_contract_reminder"
            )
        ]
        verbose_name = _("contract reminder")
        verbose_name_plural = _("contract reminders")

    def __str__(self):
        return f"{self.contract}: {self.get_event_display()} on {self.due_date}"


class Licence(Tracked):
    """Entitlements to use a software product (a software CI)."""

    class Metric(models.TextChoices):
        INSTALLATIONS = "installations", _("Installations")

    software = models.ForeignKey(
        "cmdb.ConfigurationItem",
        on_delete=models.PROTECT,
        related_name="licences",
        verbose_name=_("software"),
    )
    reference = models.CharField(
        max_length=100,
        blank=True,
        help_text=_("Licence key or order."),
        verbose_name=_("reference"),
    )
    quantity = models.PositiveIntegerField(
        validators=[MinValueValidator(1)], verbose_name=_("quantity")
    )
    metric = models.CharField(
        max_length=20,
        choices=Metric.choices,
        default=Metric.INSTALLATIONS,
        verbose_name=_("metric"),
    )
    contract = models.ForeignKey(
        Contract,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="licences",
        verbose_name=_("contract"),
    )
    valid_from = models.DateField(null=True, blank=True, verbose_name=_("valid from"))
    valid_until = models.DateField(null=True, blank=True, verbose_name=_("valid until"))
    cost = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        verbose_name=_("cost"),
    )
    currency = models.CharField(
        max_length=3, default="EUR", validators=[CURRENCY], verbose_name=_("currency")
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("licence")
        verbose_name_plural = _("licences")

    def __str__(self):
        return f"{self.quantity} x {self.software}" if self.software_id else str(self.quantity)

    @staticmethod
    def valid_on(day) -> Q:
        """Licences valid on ``day`` (open ends count as valid)."""
        return (Q(valid_from__isnull=True) | Q(valid_from__lte=day)) & (
            Q(valid_until__isnull=True) | Q(valid_until__gte=day)
        )
