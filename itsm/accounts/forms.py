from django import forms
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.forms import SetPasswordForm
from django.utils.translation import gettext_lazy as _

from .models import User


class PreferencesForm(forms.ModelForm):
    """Your name, contact details, time zone and display; changing the e-mail address or the
    password needs the current password (someone at an unlocked screen cannot take over
    the account's mail, password resets included). The current password is checked through
    ``authenticate``: wrong ones count toward the lockout. A new e-mail address is not saved
    here: it is confirmed from a link sent to it (``services.request_email_change``)."""

    #: Shown together under "Display": applied to every page as data-theme/data-density.
    display_fields = ("theme", "density", "date_format", "language")
    #: Shown together under "Sign-in".
    security_fields = ("current_password", "new_password1", "new_password2")

    current_password = forms.CharField(
        label=_("Current password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Needed to change your e-mail address or your password."),
    )
    new_password1 = forms.CharField(
        label=_("New password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to keep your password."),
    )
    new_password2 = forms.CharField(
        label=_("New password (again)"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = User
        fields = [
            "first_name",
            "last_name",
            "email",
            "phone",
            "time_zone",
            "theme",
            "density",
            "date_format",
            "language",
        ]

    def __init__(self, *args, request=None, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)
        #: As stored before this post (the form writes the new one on the instance).
        self.old_email = self.instance.email
        for name in self.display_fields:
            self.fields[name].required = False  # left out: kept as it is (see _keep)

    def _keep(self, name):
        """A display setting left out of the post keeps its value; an empty one is refused."""
        if self.is_bound and name not in self.data:
            return getattr(self.instance, name)
        value = self.cleaned_data.get(name)
        if not value:
            raise forms.ValidationError(_("Choose one of the options."))
        return value

    def clean_theme(self):
        return self._keep("theme")

    def clean_density(self):
        return self._keep("density")

    def clean_date_format(self):
        return self._keep("date_format")

    def clean_language(self):
        """Left out of the post: kept; empty: as the browser says (itsm.core.i18n)."""
        if self.is_bound and "language" not in self.data:
            return self.instance.language
        return self.cleaned_data.get("language") or ""

    def clean_email(self):
        email = (self.cleaned_data.get("email") or "").strip()
        if (
            email
            and email.lower() != (self.old_email or "").lower()
            and (User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists())
        ):
            # Whose it is is not said: the form must not tell who has an account.
            raise forms.ValidationError(_("This address is used by another account."))
        return email

    @property
    def email_changed(self) -> bool:
        """A new address (a change of letter case only is the same mailbox)."""
        new = (self.cleaned_data.get("email") or "").lower()
        return new != (self.old_email or "").lower()

    @property
    def password_changed(self) -> bool:
        return bool(self.cleaned_data.get("new_password1"))

    def clean(self):
        cleaned = super().clean()
        new1, new2 = cleaned.get("new_password1"), cleaned.get("new_password2")
        if new1 or new2:
            if new1 != new2:
                self.add_error("new_password2", _("The two passwords do not match."))
            else:
                try:
                    password_validation.validate_password(new1, self.instance)
                except forms.ValidationError as error:
                    self.add_error("new_password1", error)
        if "email" in cleaned and (self.email_changed or new1 or new2):
            current = cleaned.get("current_password") or ""
            if not current:
                self.add_error("current_password", _("Enter your current password to change this."))
            elif not self._current_password_ok(current):
                self.add_error("current_password", _("Your current password is not correct."))
        return cleaned

    def _current_password_ok(self, password) -> bool:
        if self.request is None:
            return self.instance.check_password(password)
        user = authenticate(self.request, username=self.instance.get_username(), password=password)
        return user is not None and user.pk == self.instance.pk

    @property
    def new_email(self) -> str:
        return self.cleaned_data.get("email") or ""

    @property
    def email_to_confirm(self) -> bool:
        """A new address (not just removed): it must be confirmed from a link sent to it."""
        return self.email_changed and bool(self.new_email)

    @property
    def email_removed(self) -> bool:
        return self.email_changed and not self.new_email

    def save(self, commit=True):
        user = super().save(commit=False)
        if self.email_to_confirm:
            # A new address changes only from the confirmation link sent to it.
            user.email = self.old_email
        if self.password_changed:
            # set_password: the user's post_save revokes their API tokens (signals.py).
            user.set_password(self.cleaned_data["new_password1"])
        if commit:
            user.save()
        return user


class CodeForm(forms.Form):
    """A code from the authenticator app (6 digits) or a recovery code."""

    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "text",
                "autocapitalize": "off",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
        help_text=_("The 6 digits your authenticator app shows, or one of your recovery codes."),
    )


class PasswordAndCodeForm(CodeForm):
    """What turning two-factor sign-in off, or making new recovery codes, asks for."""

    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    field_order = ["password", "code"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.pop("autofocus", None)


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


class SetNewPasswordForm(SetPasswordForm):
    """The reset link's form: the new password twice (the site's password rules apply)."""
