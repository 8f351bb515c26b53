from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class IdempotencyKey(models.Model):
    """The first answer to a POST sent with an ``Idempotency-Key``, replayed on retries."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    key = models.CharField(max_length=255, verbose_name=_("key"))
    fingerprint = models.CharField(max_length=64, verbose_name=_("fingerprint"))
    status_code = models.PositiveSmallIntegerField(null=True, verbose_name=_("status code"))
    response_body = models.JSONField(null=True, verbose_name=_("response body"))
    #: Headers of the first answer that a replay repeats (Location, ETag).
    headers = models.JSONField(default=dict, blank=True, verbose_name=_("headers"))
    created_at = models.DateTimeField(
        default=timezone.now, db_index=True, verbose_name=_("created at")
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="unique_idempotency_key")
        ]
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")

    def __str__(self):
        return f"{self.user_id}:{self.key}"


class ServiceAccount(models.Model):
    """A user that is a program, not a person (a delivery pipeline, a monitoring system):
    it has no usable password, signs in nowhere and calls the API with its tokens, as far
    as their scopes allow (``manage.py service_account <name>``). A person answers for it
    (``owner``); deactivating it stops all its tokens at once."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="service_account",
        verbose_name=_("user"),
    )
    description = models.TextField(blank=True, verbose_name=_("description"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="service_accounts_owned",
        help_text=_("The person who answers for this account."),
        verbose_name=_("owner"),
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )

    class Meta:
        ordering = ["user__username"]
        verbose_name = _("service account")
        verbose_name_plural = _("service accounts")

    def __str__(self):
        return self.user.username

    def clean(self):
        # a person's account is never made a program's: it would keep its password
        user = getattr(self, "user", None)
        if user is not None and self._state.adding and user.has_usable_password():
            raise ValidationError(
                {"user": _("A person's account (it has a password): a service account has none.")}
            )


class ApiTokenQuerySet(models.QuerySet):
    def live(self):
        """Neither revoked nor expired."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class ApiToken(models.Model):
    """A named API token of a person or a service account. Only a SHA-256 hash of its
    secret is kept (the clear value is shown once, when it is made); ``prefix`` is the
    public part that lists and logs name it by. It has scopes, always an expiry, and is
    revoked rather than deleted (who and when stay)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(max_length=100, verbose_name=_("name"))
    prefix = models.CharField(max_length=20, unique=True, editable=False, verbose_name=_("prefix"))
    secret_hash = models.CharField(max_length=64, editable=False, verbose_name=_("secret hash"))
    scopes = models.JSONField(default=list, verbose_name=_("scopes"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name=_("created by"),
    )
    last_used_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("last used at")
    )
    last_used_from = models.GenericIPAddressField(
        null=True, blank=True, editable=False, verbose_name=_("last used from")
    )
    revoked_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("revoked at")
    )
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name=_("revoked by"),
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_live_token_name_per_user",
            )
        ]
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.prefix}… ({self.name})"

    @property
    def expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def status(self) -> str:
        return "revoked" if self.revoked else "expired" if self.expired else "active"
