"""Screens of service level management: the compliance report (with its CSV) and the breach
reason form. The figures come from ``reports``; views stay thin."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from itsm.accounts.decorators import every_record_required

from . import reports
from .models import Timer


def _query(params: QueryDict) -> str:
    """The report's own parameters, to come back to the same report."""
    keep = QueryDict(mutable=True)
    for name in reports.ReportForm.base_fields:
        if params.get(name):
            keep[name] = params[name]
    return keep.urlencode()


def _render(request, params: QueryDict, status: int = 200, failed=None):
    form = reports.ReportForm(params)
    report = reports.build(form.cleaned_data) if form.is_valid() else None
    query = _query(params)
    context = {
        "form": form,
        "report": report,
        "query": query,
        "csv_query": f"{query}&format=csv" if query else "format=csv",
        "failed": failed or {},
        "reason_max": reports.REASON_MAX,
    }
    return render(request, "service_level/report.html", context, status=status if report else 400)


@every_record_required
def report(request):
    """The SLA compliance report for a period, grouped; ``?format=csv`` downloads the table."""
    if request.GET.get("format") == "csv":
        form = reports.ReportForm(request.GET)
        if form.is_valid():
            built = reports.build(form.cleaned_data)
            response = HttpResponse(content_type="text/csv; charset=utf-8")
            name = f"sla-compliance-{built.group}-{built.start:%Y%m%d}-{built.last_day:%Y%m%d}"
            response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
            reports.write_csv(built, response)
            return response
    return _render(request, request.GET)


@every_record_required
@require_POST
def breach_reason(request, pk):
    """Record why a target was missed; back to the same report (the query string)."""
    timer = get_object_or_404(Timer, pk=pk, breached=True)
    form = reports.BreachReasonForm(request.POST)
    error = None
    if form.is_valid():
        try:
            reports.record_breach_reason(timer, request.user, form.cleaned_data["reason"])
        except ValidationError as invalid:
            error = " ".join(m for ms in invalid.message_dict.values() for m in ms)
    else:
        error = " ".join(form.errors["reason"])
    if error:
        failed = {"pk": timer.pk, "reason": request.POST.get("reason", ""), "error": error}
        return _render(request, request.GET, status=400, failed=failed)
    messages.success(
        request,
        gettext("Breach reason for %(number)s saved.") % {"number": timer.record_number},
    )
    query = _query(request.GET)
    return redirect(f"{reverse('service-level:report')}{'?' + query if query else ''}#breach-{pk}")
