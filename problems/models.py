"""Problem management: problems (causes, or potential causes, of incidents), their causes
in the four dimensions of service management, workarounds and the known error database."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from itsm.core.models import AbstractDeflection, Priority, Record, RecordQuerySet

from .workflows import OPEN, ProblemState, problem_workflow


class Risk(models.TextChoices):
    """Impact and probability, the two sides of a problem's risk."""

    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


#: Risk matrix: (impact, probability) → priority. Problems are prioritised by the risk they
#: pose (ITIL 4), not by the urgency of any one incident.
PRIORITY_MATRIX = {
    (Risk.HIGH, Risk.HIGH): 1,
    (Risk.HIGH, Risk.MEDIUM): 2,
    (Risk.HIGH, Risk.LOW): 3,
    (Risk.MEDIUM, Risk.HIGH): 2,
    (Risk.MEDIUM, Risk.MEDIUM): 3,
    (Risk.MEDIUM, Risk.LOW): 4,
    (Risk.LOW, Risk.HIGH): 3,
    (Risk.LOW, Risk.MEDIUM): 4,
    (Risk.LOW, Risk.LOW): 5,
}


def priority_for(impact: str, probability: str) -> int:
    return PRIORITY_MATRIX[(Risk(impact), Risk(probability))]


class Dimension(models.TextChoices):
    """The four dimensions of service management a cause may lie in."""

    ORGANIZATIONS_AND_PEOPLE = "organizations_and_people", _("Organizations and people")
    INFORMATION_AND_TECHNOLOGY = "information_and_technology", _("Information and technology")
    PARTNERS_AND_SUPPLIERS = "partners_and_suppliers", _("Partners and suppliers")
    VALUE_STREAMS_AND_PROCESSES = "value_streams_and_processes", _("Value streams and processes")


class ProblemQuerySet(RecordQuerySet):
    """Problems are staff work: nobody's request, so end users see none (the kernel's rule;
    they read public known errors through ``public_known_errors`` only)."""

    def open(self):
        return self.filter(state__in=OPEN)

    def known_errors(self):
        return self.filter(state=ProblemState.KNOWN_ERROR)

    def public_known_errors(self):
        """What an end user may read: known errors with a published, written workaround."""
        return self.known_errors().filter(workaround_public=True).exclude(workaround="")

    def known_errors_for(self, user):
        """The known error database as this user may read it: staff the known errors
        they may see (under data separation, their teams' and the public ones), anyone
        else the public ones."""
        if not (user.is_authenticated and user.is_active):
            return self.none()
        if user.is_agent:
            from itsm.core.scoping import separation

            if separation(user) is None:
                return self.known_errors()
            return self.visible_to(user).known_errors() | self.public_known_errors()
        return self.public_known_errors()


class Problem(Record):
    NUMBER_PREFIX = "PRB"
    #: A problem is nobody's request: no requester (see ``requester`` below).
    REQUESTER_FIELD = None
    workflow = problem_workflow

    state = models.CharField(
        max_length=30,
        choices=ProblemState.choices,
        default=ProblemState.NEW,
        db_index=True,
        verbose_name=_("state"),
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="problems_opened",
        editable=False,
        verbose_name=_("opened by"),
    )
    category = models.ForeignKey(
        "incidents.Category",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("category"),
    )
    impact = models.CharField(
        max_length=10, choices=Risk.choices, default=Risk.MEDIUM, verbose_name=_("impact")
    )
    probability = models.CharField(
        max_length=10, choices=Risk.choices, default=Risk.MEDIUM, verbose_name=_("probability")
    )
    priority = models.PositiveSmallIntegerField(
        choices=Priority.choices,
        default=Priority.MODERATE,
        editable=False,
        verbose_name=_("priority"),
    )
    incidents = models.ManyToManyField(
        "incidents.Incident", blank=True, related_name="problems", verbose_name=_("incidents")
    )
    services = models.ManyToManyField(
        "catalogue.Service", blank=True, related_name="problems", verbose_name=_("services")
    )
    configuration_items = models.ManyToManyField(
        "cmdb.ConfigurationItem",
        blank=True,
        related_name="problems",
        verbose_name=_("configuration items"),
    )
    workaround = models.TextField(
        blank=True,
        help_text=_(
            "How to reduce or remove the impact of its incidents until it is fixed; "
            "start with the symptoms it applies to."
        ),
        verbose_name=_("workaround"),
    )
    workaround_public = models.BooleanField(
        _("publish the workaround"),
        default=False,
        help_text=_(
            "Show the workaround to employees in the portal (the title and workaround only)."
        ),
    )
    resolution_notes = models.TextField(blank=True, verbose_name=_("resolution notes"))
    known_error_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("known error at")
    )
    resolved_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("resolved at")
    )
    closed_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("closed at")
    )

    objects = ProblemQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "priority", "-created_at", "-id"], name="prb_queue"),
            models.Index(fields=["-created_at", "-id"], name="prb_created"),
            models.Index(fields=["assignment_group", "state"], name="prb_group"),
            models.Index(
                fields=["-known_error_at", "-id"],
                condition=models.Q(state="known_error"),
                name="prb_kedb",
            ),
        ]
        verbose_name = _("problem")
        verbose_name_plural = _("problems")

    @property
    def is_open(self) -> bool:
        return self.state in OPEN

    @property
    def is_known_error(self) -> bool:
        return self.state == ProblemState.KNOWN_ERROR

    @property
    def root_cause(self) -> str:
        """The root causes' descriptions, one paragraph each (an article written from the
        known error starts with them)."""
        return "\n\n".join(cause.description for cause in self.causes.all() if cause.is_root_cause)


class Cause(models.Model):
    """A cause of the problem: the root cause or a contributing one (also of an incident's
    duration or impact), in one of the four dimensions."""

    problem = models.ForeignKey(
        Problem, on_delete=models.CASCADE, related_name="causes", verbose_name=_("problem")
    )
    dimension = models.CharField(
        max_length=40, choices=Dimension.choices, verbose_name=_("dimension")
    )
    description = models.TextField(verbose_name=_("description"))
    is_root_cause = models.BooleanField(_("root cause"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )

    class Meta:
        ordering = ["-is_root_cause", "created_at", "id"]
        verbose_name = _("cause")
        verbose_name_plural = _("causes")

    def __str__(self):
        words = {"dimension": self.get_dimension_display(), "description": self.description[:60]}
        if self.is_root_cause:
            return gettext("Root cause (%(dimension)s): %(description)s") % words
        return gettext("Contributing cause (%(dimension)s): %(description)s") % words


class Effectiveness(models.IntegerChoices):
    NO_HELP = 1, _("1 - Did not help")
    LITTLE = 2, _("2 - Helped a little")
    PARTLY = 3, _("3 - Partly restored service")
    MOSTLY = 4, _("4 - Mostly restored service")
    FULLY = 5, _("5 - Fully restored service")


class WorkaroundUse(models.Model):
    """A workaround applied to an incident, and (later) how well it worked: error control
    evaluates a workaround each time it is used."""

    problem = models.ForeignKey(
        Problem, on_delete=models.CASCADE, related_name="workaround_uses", verbose_name=_("problem")
    )
    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.CASCADE,
        related_name="workaround_uses",
        verbose_name=_("incident"),
    )
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("used by"),
    )
    used_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("used at"))
    effectiveness = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        choices=Effectiveness.choices,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        verbose_name=_("effectiveness"),
    )
    rating_note = models.TextField(blank=True, verbose_name=_("rating note"))
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("rated by"),
    )
    rated_at = models.DateTimeField(null=True, blank=True, verbose_name=_("rated at"))

    class Meta:
        ordering = ["-used_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["problem", "incident"], name="unique_workaround_use")
        ]
        verbose_name = _("workaround use")
        verbose_name_plural = _("workaround uses")

    def __str__(self):
        return gettext("%(problem)s used on %(incident)s") % {
            "problem": self.problem.number,
            "incident": self.incident.number,
        }


class KnownErrorDeflection(AbstractDeflection):
    """Someone read a known error's published workaround on the portal and it solved their
    issue: an incident that was not needed (the known error's share of deflection, as an
    article's ``Deflection`` is the knowledge base's)."""

    problem = models.ForeignKey(
        Problem, on_delete=models.CASCADE, related_name="deflections", verbose_name=_("problem")
    )

    class Meta(AbstractDeflection.Meta):
        verbose_name = _("known error deflection")
        verbose_name_plural = _("known error deflections")

    def __str__(self):
        return gettext("%(number)s deflected “%(query)s”") % {
            "number": self.problem.number,
            "query": self.query,
        }
