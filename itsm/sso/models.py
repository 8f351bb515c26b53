"""Single sign-on: which provider group gives which role and team, and the local
break-glass accounts that may still sign in with a password when sign-in is SSO only."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from itsm.accounts.models import Role, Team


class Source(models.TextChoices):
    OIDC = "oidc", _("OpenID Connect")
    SAML = "saml", _("SAML 2.0")
    LDAP = "ldap", _("LDAP / Active Directory")


class GroupMapping(models.Model):
    """A group of the identity provider gives its members a role, a team, or both, at each
    of their sign-ins through that provider. The highest mapped role wins; a person in no
    mapped group gets the end user role (once the provider has any role mapping). Teams
    named by a mapping are managed by it: people are added and removed at sign-in; teams
    no mapping names are left as administrators set them."""

    source = models.CharField(max_length=8, choices=Source.choices, verbose_name=_("source"))
    external_group = models.CharField(
        max_length=255,
        help_text=_(
            "The group as the provider names it: the OIDC groups claim's value, the "
            "SAML groups attribute's value, or an LDAP group's cn or full DN (any letter case)."
        ),
        verbose_name=_("external group"),
    )
    role = models.CharField(
        max_length=20,
        choices=Role.choices,
        blank=True,
        help_text=_("The role its members get (the highest of their groups' roles wins)."),
        verbose_name=_("role"),
    )
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sso_mappings",
        help_text=_("The team its members belong to."),
        verbose_name=_("team"),
    )

    class Meta:
        ordering = ["source", "external_group"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(role="") | Q(team__isnull=False),
                name="sso_groupmapping_role_or_team",
                violation_error_message="A mapping gives a role, a team or both.",
            ),
            models.UniqueConstraint(
                fields=["source", "external_group", "role", "team"],
                name="sso_groupmapping_unique",
                violation_error_message="This mapping exists already.",
            ),
        ]
        verbose_name = _("group mapping")
        verbose_name_plural = _("group mappings")

    def __str__(self):
        gives = ", ".join(
            part
            for part in (self.get_role_display() if self.role else "", str(self.team or ""))
            if part
        )
        return f"{self.get_source_display()} group {self.external_group} → {gives}"


class BreakGlassAccount(models.Model):
    """A local account that may sign in with its password when ``SSO_ONLY`` refuses
    local passwords to everyone else (for when the identity provider is down). Every
    sign-in with it is audited as ``auth.break_glass_sign_in``. Single sign-on never
    signs anyone in as this account."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="break_glass",
        verbose_name=_("user"),
    )
    reason = models.CharField(max_length=200, blank=True, verbose_name=_("reason"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    last_used_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("last used at")
    )

    class Meta:
        verbose_name = _("break-glass account")
        verbose_name_plural = _("break-glass accounts")

    def __str__(self):
        return f"Break-glass: {self.user.username}"
