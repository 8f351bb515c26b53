"""``/me/tokens/``: a person's API tokens: the list (name, prefix, scopes, expiry, last
use), a new one (its secret shown on the answer to the form, once) and revoking one; and
the tokens of the service accounts they answer for (to revoke)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from . import tokens
from .models import ApiToken


class NewTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text=_("What it is for: the laptop, the monitoring, a script.")
    )
    scopes = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Write includes read. The practice scopes reach that practice's API only."),
    )
    days = forms.IntegerField(min_value=1, label=_("Expires in (days)"))

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["scopes"].choices = tokens.scope_choices()
        self.fields["days"].initial = tokens.default_days()
        self.fields["days"].max_value = tokens.max_days()
        self.fields["days"].help_text = gettext("At most %(max)s.") % {"max": tokens.max_days()}
        self.fields["days"].widget.attrs["max"] = tokens.max_days()

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                tokens.clean(self.user, data.get("name"), data.get("scopes"), data.get("days"))
            except ValidationError as error:
                for field, problems in error.message_dict.items():
                    self.add_error(field if field in self.fields else None, problems)
        return data


def _page(request, form, status=200, created=None, clear=None):
    base = "workspace/base.html" if request.user.is_agent else "portal/base.html"
    response = render(
        request,
        "accounts/tokens.html",
        {
            "base_template": base,
            "form": form,
            "tokens": ApiToken.objects.filter(user=request.user),
            "programs": ApiToken.objects.filter(
                user__service_account__owner=request.user
            ).select_related("user"),
            "created": created,
            "clear": clear,
        },
        status=status,
    )
    add_never_cache_headers(response)  # the page may hold a secret
    return response


@login_required
@require_http_methods(["GET", "POST"])
def my_tokens(request):
    form = NewTokenForm(request.user, request.POST or None)
    if request.method == "POST":
        if not form.is_valid():
            return _page(request, form, status=400)
        token, clear = tokens.issue(
            request.user,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            days=form.cleaned_data["days"],
            created_by=request.user,
            request=request,
        )
        return _page(request, NewTokenForm(request.user), status=201, created=token, clear=clear)
    return _page(request, form)


@login_required
@require_POST
def revoke_my_token(request, pk: int):
    token = get_object_or_404(
        ApiToken.objects.filter(
            Q(user=request.user) | Q(user__service_account__owner=request.user)
        ).select_related("user"),
        pk=pk,
    )
    if tokens.revoke(token, by=request.user, request=request, reason="by its owner"):
        messages.success(
            request,
            gettext("Token %(prefix)s… (%(name)s) revoked.")
            % {"prefix": token.prefix, "name": token.name},
        )
    return redirect("my-tokens")
