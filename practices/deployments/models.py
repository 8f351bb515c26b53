"""Deployment management: deployments (``DPL``) move a release or a build to an
environment, by a person or a pipeline; the DevOps gate's data: what each environment
requires of a deployment's change
(``EnvironmentPolicy``), and the GitHub integrations whose deployment protection rules
ask the gate. Pipelines are the kernel's service accounts (``itsm.api.models``) with a
token scoped ``deployments:write``."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cmdb.models import Environment
from itsm.api.models import ServiceAccount
from itsm.core.models import Record, RecordQuerySet

from .workflows import OPEN, DeploymentState, deployment_workflow


class Strategy(models.TextChoices):
    BIG_BANG = "big_bang", _("Big bang")
    PHASED = "phased", _("Phased")
    BLUE_GREEN = "blue_green", _("Blue-green")
    CANARY = "canary", _("Canary")
    FEATURE_FLAG = "feature_flag", _("Feature flag")


class GateDecision(models.TextChoices):
    ALLOWED = "allowed", _("Allowed")
    AWAITING = "awaiting", _("Awaiting")
    PREVENTED = "prevented", _("Prevented")


class EnvironmentPolicy(models.Model):
    """What a deployment to an environment requires: the change model of the change the
    platform opens for it (a registration for non-production, a normal change for
    production, …) and whether low-risk ones are authorised without people."""

    environment = models.CharField(
        max_length=20, choices=Environment.choices, unique=True, verbose_name=_("environment")
    )
    change_model = models.ForeignKey(
        "changes.ChangeModel",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("change model"),
    )
    assignment_group = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The team the pipelines' changes are assigned to."),
        verbose_name=_("assignment group"),
    )
    auto_approve = models.BooleanField(
        default=False,
        help_text=_(
            "Authorise low-risk deployments without people: risk low, no conflict, "
            "the pipeline's tests passed."
        ),
        verbose_name=_("auto approve"),
    )
    window_minutes = models.PositiveIntegerField(
        default=60,
        help_text=_("The planned window a pipeline's change gets from its request."),
        verbose_name=_("window minutes"),
    )

    class Meta:
        ordering = ["environment"]
        verbose_name_plural = _("environment policies")
        verbose_name = _("environment policy")

    def __str__(self):
        return f"{self.get_environment_display()}: {self.change_model}"

    def clean(self):
        if self.change_model_id and not self.change_model.active:
            raise ValidationError(
                {"change_model": gettext("%(model)s is retired.") % {"model": self.change_model}}
            )


class GitHubIntegration(models.Model):
    """A GitHub App's (or repository's) custom deployment protection rule: its webhook
    secret (the HMAC of every event), the hosts its callbacks may go to, the GitHub
    environments' names mapped to ours, and the service account its deployments are
    requested as."""

    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    secret = models.CharField(
        max_length=200,
        help_text=_("The webhook secret GitHub signs each event with."),
        verbose_name=_("secret"),
    )
    callback_token = models.CharField(
        max_length=500,
        blank=True,
        help_text=_(
            "The token the answer to a run's callback is authorised with (the "
            "GitHub App installation's access token)."
        ),
        verbose_name=_("callback token"),
    )
    allowed_callback_hosts = models.JSONField(
        default=list,
        blank=True,
        help_text=_('Hosts the callback may be sent to, e.g. ["api.github.com"].'),
        verbose_name=_("allowed callback hosts"),
    )
    environments = models.JSONField(
        default=dict,
        blank=True,
        help_text=_(
            'GitHub environment -> ours: {"prod": "production", "qa": "test"}; an '
            "environment not named here is looked up by our own names."
        ),
        verbose_name=_("environments"),
    )
    repositories = models.JSONField(
        default=list,
        blank=True,
        help_text=_('Repositories allowed ("owner/name"); empty: any.'),
        verbose_name=_("repositories"),
    )
    service_account = models.ForeignKey(
        ServiceAccount,
        on_delete=models.PROTECT,
        related_name="github_integrations",
        verbose_name=_("service account"),
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("GitHub integration")
        verbose_name_plural = _("GitHub integrations")

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        hosts = self.allowed_callback_hosts
        if not isinstance(hosts, list) or not all(isinstance(h, str) and h for h in hosts):
            errors["allowed_callback_hosts"] = 'A list of host names: ["api.github.com"].'
        envs = self.environments
        if not isinstance(envs, dict) or any(v not in Environment.values for v in envs.values()):
            errors["environments"] = (
                f"A mapping to our environments: {', '.join(Environment.values)}."
            )
        if not isinstance(self.repositories, list):
            errors["repositories"] = 'A list of repositories: ["owner/name"].'
        if errors:
            raise ValidationError(errors)

    def environment_for(self, name: str) -> str | None:
        mapped = (self.environments or {}).get(name)
        if mapped:
            return mapped
        return name if name in Environment.values else None


class DeploymentQuerySet(RecordQuerySet):
    def for_end_user(self, user):
        """A pipeline's service account sees the deployments it asked for (staff: those the
        kernel's ``visible_to`` shows them)."""
        account = getattr(user, "service_account", None)
        if account is not None and account.active:
            return self.filter(service_account=account)
        return self.none()

    def open(self):
        return self.filter(state__in=OPEN)


class Deployment(Record):
    NUMBER_PREFIX = "DPL"
    DETAIL_URL_NAME = "deployments:detail"
    REQUESTER_FIELD = None
    workflow = deployment_workflow

    state = models.CharField(
        _("status"),
        max_length=20,
        choices=DeploymentState.choices,
        default=DeploymentState.PLANNED,
        db_index=True,
    )
    release = models.ForeignKey(
        "releases.Release",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deployments",
        verbose_name=_("release"),
    )
    build = models.CharField(
        max_length=200,
        blank=True,
        help_text=_("A build deployed without a release."),
        verbose_name=_("build"),
    )
    environment = models.CharField(
        max_length=20, choices=Environment.choices, verbose_name=_("environment")
    )
    strategy = models.CharField(
        max_length=20,
        choices=Strategy.choices,
        default=Strategy.BIG_BANG,
        verbose_name=_("strategy"),
    )
    #: The version deployed ("2.4.1"); ``version`` is the row's edit counter (ETags).
    software_version = models.CharField(_("version"), max_length=100, blank=True)
    configuration_items = models.ManyToManyField(
        "cmdb.ConfigurationItem",
        blank=True,
        related_name="deployments",
        verbose_name=_("configuration items"),
    )
    change = models.ForeignKey(
        "changes.Change",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deployments",
        verbose_name=_("change"),
    )
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    ended_at = models.DateTimeField(null=True, blank=True, verbose_name=_("ended at"))
    deployed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deployments_done",
        verbose_name=_("deployed by"),
    )
    # A pipeline's deployment: which pipeline, run, commit and artefact.
    service_account = models.ForeignKey(
        ServiceAccount,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deployments",
        editable=False,
        verbose_name=_("service account"),
    )
    pipeline = models.CharField(max_length=200, blank=True, verbose_name=_("pipeline"))
    run = models.CharField(max_length=100, blank=True, verbose_name=_("run"))
    commit = models.CharField(max_length=100, blank=True, verbose_name=_("commit"))
    artefact = models.CharField(max_length=500, blank=True, verbose_name=_("artefact"))
    log_url = models.URLField(max_length=1000, blank=True, verbose_name=_("log url"))
    tests_passed = models.BooleanField(null=True, blank=True, verbose_name=_("tests passed"))
    # The gate's last answer (asked at the moment: these only show it).
    gate_decision = models.CharField(
        max_length=10,
        choices=GateDecision.choices,
        blank=True,
        editable=False,
        verbose_name=_("gate decision"),
    )
    gate_reasons = models.JSONField(
        default=list, blank=True, editable=False, verbose_name=_("gate reasons")
    )
    gate_checked_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("gate checked at")
    )
    # A GitHub deployment protection rule waiting for the gate's answer.
    github_integration = models.ForeignKey(
        GitHubIntegration,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deployments",
        editable=False,
        verbose_name=_("github integration"),
    )
    github_environment = models.CharField(
        max_length=200, blank=True, editable=False, verbose_name=_("github environment")
    )
    github_callback_url = models.URLField(
        max_length=1000, blank=True, editable=False, verbose_name=_("github callback url")
    )
    callback_state = models.CharField(
        max_length=10, blank=True, editable=False, verbose_name=_("callback state")
    )
    callback_sent_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("callback sent at")
    )
    callback_error = models.CharField(
        max_length=500, blank=True, editable=False, verbose_name=_("callback error")
    )

    objects = DeploymentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="dpl_created"),
            models.Index(fields=["state", "-created_at", "-id"], name="dpl_state"),
            models.Index(fields=["environment", "state"], name="dpl_environment"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["pipeline", "run", "environment"],
                condition=~Q(pipeline=""),
                name="one_deployment_per_pipeline_run",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True)
                | Q(started_at__isnull=True)
                | Q(ended_at__gte=models.F("started_at")),
                name="deployment_ends_after_it_starts",
            ),
        ]
        verbose_name = _("deployment")
        verbose_name_plural = _("deployments")

    @property
    def is_open(self) -> bool:
        return self.state in OPEN

    @property
    def what(self) -> str:
        """What is deployed: the release (and its version) or the build."""
        if self.release_id:
            return f"{self.release.number} {self.software_version}".strip()
        return self.build or self.software_version or self.artefact or "—"
