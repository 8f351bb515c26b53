from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render

from .forms import PreferencesForm
from .services import tell_of_credential_change


@login_required
def preferences(request):
    """Your name, contact details and time zone (times are shown in it); your e-mail address
    and password (the current password is asked, and the old address is told)."""
    form = PreferencesForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = form.save()
            tell_of_credential_change(
                user, form.old_email, form.email_changed, form.password_changed
            )
        if form.password_changed:
            update_session_auth_hash(request, user)  # this session stays; the others end
            messages.success(request, "Preferences saved. Your other sessions were signed out.")
        else:
            messages.success(request, "Preferences saved.")
        return redirect("preferences")
    base = "workspace/base.html" if request.user.is_agent else "portal/base.html"
    return render(
        request,
        "accounts/preferences.html",
        {"form": form, "base_template": base},
        status=400 if form.errors else 200,
    )
