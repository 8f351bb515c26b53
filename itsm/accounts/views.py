import time

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, get_user_model, update_session_auth_hash
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from itsm.audit.services import record

from . import lockout, services
from .forms import (
    CodeForm,
    PasswordAndCodeForm,
    PasswordResetRequestForm,
    PreferencesForm,
    SetNewPasswordForm,
)
from .services import tell_of_credential_change

#: The session key that holds a sign-in waiting for its second factor.
PENDING = "itsm_pending_sign_in"


def _base(request):
    return "workspace/base.html" if request.user.is_agent else "portal/base.html"


def _safe_next(request, target, default="home"):
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(default) if "/" not in default else default


def _link(request, path) -> str:
    """An absolute link for a mail: on ``SITE_URL`` if set, else on the request's host."""
    site = getattr(settings, "SITE_URL", "")
    return f"{site}{path}" if site else request.build_absolute_uri(path)


# --- sign-in ------------------------------------------------------------------------------------


class SignInView(auth_views.LoginView):
    """The password, then (for people who turned it on) the second factor: a person with a
    confirmed authenticator is not signed in until ``/login/verify/`` accepts a code."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if services.has_second_factor(user):
            self.request.session[PENDING] = {
                "user": user.pk,
                "backend": user.backend,
                "at": time.time(),
                "next": self.get_redirect_url(),
            }
            return redirect("sign-in-verify")
        return super().form_valid(form)


def _pending_user(request):
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict):
        return None, None
    if time.time() - float(pending.get("at", 0)) > settings.TWO_FACTOR_PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None, None
    user = get_user_model().objects.filter(pk=pending.get("user"), is_active=True).first()
    return user, pending


@never_cache
@sensitive_post_parameters("code")
def sign_in_verify(request):
    """The second step of signing in: a code from the authenticator app, or a recovery
    code. Wrong codes count toward the lockout like wrong passwords."""
    user, pending = _pending_user(request)
    if user is None:
        messages.info(request, _("Sign in again: the sign-in waiting for its code has expired."))
        return redirect("login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        username = user.get_username()
        if not lockout.attempt(request, username):
            return render(request, "registration/verify.html", {"form": form}, status=429)
        device = services.verify_second_factor(user, form.cleaned_data["code"])
        if device is None:
            lockout.failed(request, username)
            form.add_error("code", gettext("This code is not correct, or was used already."))
        else:
            request.session.pop(PENDING, None)
            auth_login(request, user, backend=pending["backend"])
            django_otp.login(request, device)
            if device.__class__.__name__ == "StaticDevice":
                left = services.recovery_codes_left(user)
                messages.warning(
                    request,
                    ngettext(
                        "You signed in with a recovery code; %(left)s left. "
                        "Make new ones on the two-factor page if you are running low.",
                        "You signed in with a recovery code; %(left)s left. "
                        "Make new ones on the two-factor page if you are running low.",
                        left,
                    )
                    % {"left": left},
                )
            return redirect(_safe_next(request, pending.get("next")))
    return render(
        request, "registration/verify.html", {"form": form}, status=400 if form.errors else 200
    )


# --- preferences and the e-mail change ---------------------------------------------------------


@login_required
@sensitive_post_parameters("current_password", "new_password1", "new_password2")
def preferences(request):
    """Your name, contact details and time zone (times are shown in it); your e-mail address
    and password (the current password is asked, and the old address is told; a new
    address is confirmed from a link sent to it)."""
    form = PreferencesForm(request.POST or None, instance=request.user, request=request)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = form.save()
            tell_of_credential_change(
                user, form.old_email, form.email_removed, form.password_changed
            )
            if form.email_to_confirm:
                services.request_email_change(
                    request,
                    user,
                    form.new_email,
                    lambda token: _link(request, reverse("email-confirm", args=[token])),
                )
        if form.password_changed:
            update_session_auth_hash(request, user)  # this session stays; the others end
            record("auth.password_changed", actor=user, target=user, request=request)
        saved = [gettext("Preferences saved.")]
        if form.email_to_confirm:
            saved.append(
                gettext("To change your e-mail address, open the link we sent to the new address.")
            )
        if form.password_changed:
            saved.append(gettext("Your other sessions were signed out."))
        messages.success(request, " ".join(saved))
        return redirect("preferences")
    if lockout.is_locked_out(request):
        return HttpResponse(status=429)  # answered by the lockout page (middleware)
    return render(
        request,
        "accounts/preferences.html",
        {
            "form": form,
            "base_template": _base(request),
            "two_factor_on": services.has_second_factor(request.user),
        },
        status=400 if form.errors else 200,
    )


@login_required
def confirm_email(request, token):
    """The link sent to a new address: the address changes now, for the signed-in person the
    link was made for, once."""
    try:
        email = services.confirm_email_change(request, token)
    except services.EmailChangeRefused as refusal:
        return render(
            request,
            "accounts/email_refused.html",
            {"reason": str(refusal), "base_template": _base(request)},
            status=400,
        )
    messages.success(request, gettext("Your e-mail address is now %(email)s.") % {"email": email})
    return redirect("preferences")


# --- two-factor sign-in ------------------------------------------------------------------------


def _password_ok(request, password) -> bool:
    """The signed-in person's password, through ``authenticate`` so that wrong ones count
    toward the lockout."""
    user = authenticate(request, username=request.user.get_username(), password=password)
    return user is not None and user.pk == request.user.pk


def _code_ok(request, code) -> bool:
    username = request.user.get_username()
    if not lockout.attempt(request, username):
        return False
    if services.verify_second_factor(request.user, code) is None:
        lockout.failed(request, username)
        return False
    return True


@login_required
@never_cache
@sensitive_post_parameters("password", "code")
def two_factor(request):
    """Set up two-factor sign-in (scan the QR code or type the secret, confirm with a code;
    ten recovery codes are shown once), confirm this session with a code, make new
    recovery codes, or turn it off (password and code)."""
    user = request.user
    device = services.confirmed_totp(user)
    verified = services.second_factor_verified(request)
    action = request.POST.get("action") if request.method == "POST" else None
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    context = {
        "base_template": _base(request),
        "required": services.two_factor_required(user),
        "next": next_url if _safe_next(request, next_url, "/") == next_url else "",
    }
    status = 200
    if device is None:
        pending = services.pending_totp(user, fresh=action != "confirm")
        form = CodeForm(request.POST if action == "confirm" else None)
        if action == "confirm" and form.is_valid():
            codes = services.confirm_totp(request, pending, form.cleaned_data["code"])
            if codes is not None:
                return _show_codes(request, codes, context, first=True)
            form.add_error(
                "code", gettext("This code is not correct: check the time on your device.")
            )
            status = 400
        context.update(
            state="setup",
            form=form,
            secret=services.secret_for_manual_entry(pending),
        )
    elif not verified:
        form = CodeForm(request.POST if action == "verify" else None)
        if action == "verify" and form.is_valid():
            found = None
            if lockout.attempt(request, user.get_username()):
                found = services.verify_second_factor(user, form.cleaned_data["code"])
                if found is None:
                    lockout.failed(request, user.get_username())
            if found is not None:
                django_otp.login(request, found)
                return redirect(_safe_next(request, next_url))
            form.add_error("code", gettext("This code is not correct, or was used already."))
            status = 400
        context.update(state="verify", form=form)
    else:
        form = PasswordAndCodeForm(request.POST if action in ("regenerate", "disable") else None)
        if action in ("regenerate", "disable") and form.is_valid():
            if action == "disable" and context["required"]:
                form.add_error(None, gettext("Your account must use two-factor sign-in."))
            elif not _password_ok(request, form.cleaned_data["password"]):
                form.add_error("password", gettext("Your password is not correct."))
            elif not _code_ok(request, form.cleaned_data["code"]):
                form.add_error("code", gettext("This code is not correct, or was used already."))
            elif action == "regenerate":
                return _show_codes(request, services.regenerate_recovery_codes(request), context)
            else:
                services.disable_two_factor(request)
                messages.success(request, _("Two-factor sign-in is off."))
                return redirect("two-factor")
            status = 400
        elif form.errors:
            status = 400
        context.update(
            state="on",
            form=form,
            action=action,
            codes_left=services.recovery_codes_left(user),
        )
    if lockout.is_locked_out(request):
        return HttpResponse(status=429)  # answered by the lockout page (middleware)
    return render(request, "accounts/two_factor.html", context, status=status)


def _show_codes(request, codes, context, first=False):
    response = render(
        request,
        "accounts/recovery_codes.html",
        {**context, "codes": codes, "first": first},
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@never_cache
def two_factor_qr(request):
    """The QR code of the authenticator being set up (SVG); nothing once it is confirmed."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        raise Http404
    response = HttpResponse(services.qr_code_svg(device), content_type="image/svg+xml")
    response["Cache-Control"] = "no-store"
    return response


# --- password reset -------------------------------------------------------------------------------


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link: the same answer, by the same path, whether the address has an
    account or not (the mail is looked up and sent by a background task); at most
    ``PASSWORD_RESET_LIMIT`` requests an hour per address and per client address."""

    template_name = "registration/password_reset_form.html"
    form_class = PasswordResetRequestForm
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form):
        from .tasks import send_password_reset

        email = form.cleaned_data["email"]
        if services.password_reset_allowed(self.request, email):
            base = _link(self.request, "/").rstrip("/")
            transaction.on_commit(lambda: send_password_reset.delay(email, base))
        return redirect(self.success_url)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The link's page: a new password. The link works once (it depends on the password it
    replaces) and for ``PASSWORD_RESET_TIMEOUT``; the reset ends every session and revokes
    the API tokens (``signals.py``), tells the address, and lifts a lockout of the account."""

    template_name = "registration/password_reset_confirm.html"
    form_class = SetNewPasswordForm
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form):
        from axes.handlers.proxy import AxesProxyHandler

        with transaction.atomic():
            response = super().form_valid(form)
            user = form.user
            tell_of_credential_change(user, user.email, False, True)
        AxesProxyHandler.reset_attempts(
            username=lockout.client_username(None, {"username": user.get_username()})
        )
        record("auth.password_reset", actor=user, target=user, request=self.request)
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"
