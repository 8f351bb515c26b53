from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from .forms import PreferencesForm


@login_required
def preferences(request):
    """Your name, contact details and time zone (times are shown in it)."""
    form = PreferencesForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Preferences saved.")
        return redirect("preferences")
    base = "workspace/base.html" if request.user.is_agent else "portal/base.html"
    return render(
        request,
        "accounts/preferences.html",
        {"form": form, "base_template": base},
        status=400 if form.errors else 200,
    )
