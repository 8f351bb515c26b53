"""Users, roles, teams (assignment groups), organizations and locations."""

import zoneinfo

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

TIME_ZONE_CHOICES = sorted((tz, tz) for tz in zoneinfo.available_timezones())


class Role(models.TextChoices):
    END_USER = "end_user", _("End user")
    AGENT = "agent", _("Service desk agent")
    MANAGER = "manager", _("Manager")
    CHANGE_MANAGER = "change_manager", _("Change manager")
    ADMINISTRATOR = "administrator", _("Administrator")


class Theme(models.TextChoices):
    SYSTEM = "system", _("As my device (light or dark)")
    LIGHT = "light", _("Light")
    DARK = "dark", _("Dark")


class Density(models.TextChoices):
    COMFORTABLE = "comfortable", _("Comfortable")
    COMPACT = "compact", _("Compact (more rows on screen)")


class DateFormat(models.TextChoices):
    """How a person types and reads dates in forms (``itsm.core.formats``)."""

    BROWSER = "browser", _("As my browser shows dates (its own date picker)")
    ISO = "iso", _("2026-12-31 (year-month-day)")
    DMY = "dmy", _("31/12/2026 (day/month/year)")
    MDY = "mdy", _("12/31/2026 (month/day/year)")


#: Languages a person may choose for the screens and their mail ("" follows the browser).
LANGUAGE_CHOICES = [("", _("As my browser")), ("en", "English"), ("de", "Deutsch")]

#: Roles that work in the agent workspace (their groups hold ``core.work_in_workspace``).
STAFF_ROLES = frozenset({Role.AGENT, Role.MANAGER, Role.CHANGE_MANAGER, Role.ADMINISTRATOR})


class Organization(models.Model):
    name = models.CharField(max_length=200, unique=True, verbose_name=_("name"))
    description = models.TextField(blank=True, verbose_name=_("description"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self):
        return self.name


class Location(models.Model):
    name = models.CharField(max_length=200, unique=True, verbose_name=_("name"))
    address = models.TextField(blank=True, verbose_name=_("address"))
    time_zone = models.CharField(
        max_length=64, choices=TIME_ZONE_CHOICES, default="UTC", verbose_name=_("time zone")
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("location")
        verbose_name_plural = _("locations")

    def __str__(self):
        return self.name


class UserQuerySet(models.QuerySet):
    def update(self, **values):
        """A bulk update that changes a role, staff, superuser or active flag is audited
        person by person (``itsm.audit.signals.role_updated_in_bulk``), as a save is."""
        from itsm.audit.signals import role_updated_in_bulk

        return role_updated_in_bulk(
            self, values, lambda: super(UserQuerySet, self).update(**values)
        )

    def visible_to(self, user):
        """Staff see everyone (separated by organization: the people of the customers they
        serve, and internal people); anyone else sees only themselves as a choice (the
        people on their own tickets are shown by name, never offered as a list)."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_agent:
            from itsm.core.scoping import separation

            narrowed = separation(user)
            if narrowed is None or narrowed.mode != "organizations":
                return self
            return self.filter(narrowed.of_organizations("organization") | models.Q(pk=user.pk))
        return self.filter(pk=user.pk)


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    role = models.CharField(
        max_length=20, choices=Role.choices, default=Role.END_USER, verbose_name=_("role")
    )
    time_zone = models.CharField(
        max_length=64, choices=TIME_ZONE_CHOICES, default="UTC", verbose_name=_("time zone")
    )
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="users",
        verbose_name=_("organization"),
    )
    location = models.ForeignKey(
        Location,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="users",
        verbose_name=_("location"),
    )
    phone = models.CharField(max_length=40, blank=True, verbose_name=_("phone"))
    vip = models.BooleanField(
        _("VIP"),
        default=False,
        help_text=_("Flagged to agents wherever this person is picked or shown as a caller."),
    )
    manager = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
        help_text=_("Who approves this person's requests when an item asks for the manager."),
        verbose_name=_("manager"),
    )

    theme = models.CharField(
        max_length=12,
        choices=Theme.choices,
        default=Theme.SYSTEM,
        help_text=_("Light or dark colours on every page; “as my device” follows its setting."),
        verbose_name=_("theme"),
    )
    density = models.CharField(
        max_length=12,
        choices=Density.choices,
        default=Density.COMFORTABLE,
        help_text=_("Compact fits more rows of a queue on the screen."),
        verbose_name=_("density"),
    )
    date_format = models.CharField(
        max_length=10,
        choices=DateFormat.choices,
        default=DateFormat.BROWSER,
        help_text=_(
            "How dates are typed and shown in forms; the browser's picker follows "
            "the browser's language, not yours."
        ),
        verbose_name=_("date format"),
    )
    language = models.CharField(
        max_length=10,
        choices=LANGUAGE_CHOICES,
        blank=True,
        help_text=_("The language of the screens and of the mail you receive."),
        verbose_name=_("language"),
    )
    #: What this person's groups and own permissions grant ("app.codename"), kept up to
    #: date by ``itsm.accounts.permissions`` on every change of either, so that checking
    #: a permission costs no query.
    granted_permissions = models.JSONField(
        default=list, blank=True, editable=False, verbose_name=_("granted permissions")
    )

    objects = UserManager()

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.get_full_name() or self.username

    @property
    def is_agent(self) -> bool:
        """Works in the agent workspace (agents, managers, change managers, administrators:
        their groups hold the right)."""
        return self.has_perm("core.work_in_workspace")

    @property
    def is_end_user(self) -> bool:
        return not self.is_agent

    # Permissions: what the groups grant, read from ``granted_permissions`` (no query).
    # Object permissions and other backends' answers go through Django's backends.

    def get_all_permissions(self, obj=None):
        if obj is not None:
            return super().get_all_permissions(obj)
        if not self.is_active:
            return set()
        if self.is_superuser:
            return super().get_all_permissions()
        return set(self.granted_permissions)

    def has_perm(self, perm, obj=None):
        if self.is_active and self.is_superuser:
            return True
        if obj is not None:
            return super().has_perm(perm, obj)
        return self.is_active and perm in self.granted_permissions

    def has_perms(self, perm_list, obj=None):
        return all(self.has_perm(perm, obj) for perm in perm_list)

    def has_module_perms(self, app_label):
        if self.is_active and self.is_superuser:
            return True
        prefix = f"{app_label}."
        return self.is_active and any(p.startswith(prefix) for p in self.granted_permissions)

    @cached_property
    def team_ids(self) -> frozenset[int]:
        return frozenset(self.teams.values_list("id", flat=True))

    @cached_property
    def scope_team_ids(self) -> frozenset[int]:
        """The teams whose records this person works: those they are in or manage."""
        return frozenset(
            Team.objects.filter(models.Q(members=self) | models.Q(manager=self))
            .values_list("id", flat=True)
            .distinct()
        )

    @cached_property
    def served_organization_ids(self) -> frozenset[int]:
        """The customers this person serves: the organizations their teams serve."""
        return frozenset(
            Team.organizations.through.objects.filter(
                models.Q(team__members=self) | models.Q(team__manager=self)
            )
            .values_list("organization_id", flat=True)
            .distinct()
        )

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "role" not in update_fields:
            super().save(*args, **kwargs)
            return
        # The administrator role opens the admin screens with the administrators' rights;
        # leaving the role closes them again (a superuser keeps them anyway).
        if self.role == Role.ADMINISTRATOR:
            self.is_staff = True
        elif not self.is_superuser and self.pk is not None:
            was = User.objects.filter(pk=self.pk).values_list("role", flat=True).first()
            if was == Role.ADMINISTRATOR:
                self.is_staff = False
        super().save(*args, **kwargs)
        self.sync_role_group()

    def sync_role_group(self) -> None:
        """Put this person in their role's group and out of the other roles' groups (the
        additional roles' groups are left as they are)."""
        from django.contrib.auth.models import Group

        from .roles import ROLE_GROUPS, role_group

        group = role_group(ROLE_GROUPS[self.role])
        others = Group.objects.filter(name__in=ROLE_GROUPS.values()).exclude(pk=group.pk)
        held = set(self.groups.filter(name__in=ROLE_GROUPS.values()).values_list("pk", flat=True))
        if held - {group.pk}:
            self.groups.remove(*others.filter(pk__in=held))
        if group.pk not in held:
            self.groups.add(group)


class Team(models.Model):
    """An assignment group: the agents who work records assigned to it, and its manager."""

    name = models.CharField(max_length=200, unique=True, verbose_name=_("name"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    email = models.EmailField(blank=True, verbose_name=_("email"))
    manager = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_teams",
        verbose_name=_("manager"),
    )
    members = models.ManyToManyField(
        User, blank=True, related_name="teams", verbose_name=_("members")
    )
    organizations = models.ManyToManyField(
        Organization,
        blank=True,
        related_name="serving_teams",
        help_text=_(
            "The customers this team serves: with data separation by organization, "
            "its members see these organizations' records only."
        ),
        verbose_name=_("organizations"),
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self):
        return self.name

    def clean(self):
        if self.manager_id and not self.manager.is_agent:
            raise ValidationError({"manager": _("A team's manager must be a staff member.")})
