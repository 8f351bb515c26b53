from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import render


def agent_required(view):
    """Signed in and working in the agent workspace; anyone else gets a 403 page."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not request.user.is_agent:
            return render(request, "403.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper
