from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import render


def permission_required(perm: str):
    """Signed in and holding ``perm``; anyone else signed in gets a 403 page."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            if not request.user.has_perm(perm):
                return render(request, "403.html", status=403)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def agent_required(view):
    """Signed in and working in the agent workspace; anyone else gets a 403 page."""
    return permission_required("core.work_in_workspace")(view)


def every_record_required(view):
    """Working in the workspace and seeing every record (no data separation applies to
    them): for figures and reports that count every record of every team or customer."""

    @wraps(view)
    @agent_required
    def wrapper(request, *args, **kwargs):
        from itsm.core.scoping import separation

        if separation(request.user) is not None:
            return render(request, "403.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper
