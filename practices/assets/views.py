"""Screens of IT asset management in the agent workspace: the asset register with its
filters, an asset's page (history, lifecycle buttons, fields), contracts and the licence
compliance report. Views stay thin: every write goes through ``services``."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from itsm.accounts.decorators import agent_required
from itsm.accounts.models import Location
from itsm.core import services as core
from itsm.core.pagination import paginate
from itsm.core.services import StaleVersion
from itsm.core.views import add_errors, error_text, is_htmx, posted_version, query_without

from . import compliance, services
from .filters import ASSET_ORDERING, CONTRACT_ORDERING, AssetFilterSet, ContractFilterSet
from .forms import AssetForm, MoveForm
from .models import Asset, Contract, ContractReminder, Supplier

PAGE_SIZE = 50


def _assets(user):
    return Asset.objects.visible_to(user).select_related("vendor", "assigned_to", "location")


def _get_asset(user, tag) -> Asset:
    return get_object_or_404(_assets(user).select_related("configuration_item"), asset_tag=tag)


def _page(request, queryset, filterset, orderings, default):
    """Order by a known column, then one keyset page: (rows, ordering, next query)."""
    params = request.GET
    ordering = params.get("ordering") or default
    if ordering.lstrip("-") not in orderings:
        ordering = default
    queryset = filterset.qs.order_by(ordering) if filterset.is_valid() else queryset.none()
    try:
        rows, next_cursor = paginate(queryset, params.get("cursor"), PAGE_SIZE)
    except ValidationError:
        rows, next_cursor = paginate(queryset, None, PAGE_SIZE)
    next_params = params.copy()
    next_params["cursor"] = next_cursor or ""
    return rows, ordering, next_params.urlencode() if next_cursor else ""


# Assets ------------------------------------------------------------------------------------


@agent_required
def asset_list(request):
    queryset = _assets(request.user)
    filterset = AssetFilterSet(request.GET, queryset=queryset, request=request)
    rows, ordering, next_query = _page(request, queryset, filterset, ASSET_ORDERING, "asset_tag")
    context = {
        "filterset": filterset,
        "assets": rows,
        "ordering": ordering,
        "next_query": next_query,
        "query_without_ordering": query_without(request.GET, "ordering", "cursor"),
        "locations": Location.objects.only("pk", "name"),
        "suppliers": Supplier.objects.visible_to(request.user).only("pk", "name"),
    }
    if is_htmx(request) and request.GET.get("cursor"):
        return render(request, "assets/_asset_rows.html", context)
    if is_htmx(request):
        return render(request, "assets/_asset_table.html", context)
    return render(request, "assets/asset_list.html", context)


@agent_required
def asset_create(request):
    form = AssetForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                asset = services.create_asset(request.user, form.values())
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, f"{asset.asset_tag} registered.")
                return redirect("assets:detail", tag=asset.asset_tag)
        status = 400
    return render(request, "assets/asset_form.html", {"form": form}, status=status)


def _asset_context(request, asset, **extra):
    context = {
        "asset": asset,
        "transitions": asset.workflow.available(asset, request.user),
        "form": AssetForm(instance=asset),
        "move_form": MoveForm(),
        "locations": Location.objects.only("pk", "name"),
        "contracts": asset.contracts.select_related("supplier").order_by("end_date", "pk"),
        "timeline": core.timeline(asset, request.user).reverse(),
    }
    context.update(extra)
    return context


@agent_required
def asset_detail(request, tag):
    asset = _get_asset(request.user, tag)
    return render(request, "assets/asset_detail.html", _asset_context(request, asset))


@agent_required
@require_POST
def asset_edit(request, tag):
    asset = _get_asset(request.user, tag)
    form = AssetForm(request.POST, instance=asset)
    if form.is_valid():
        try:
            services.update_asset(asset, request.user, form.values(), posted_version(request))
        except StaleVersion:
            fresh = _get_asset(request.user, tag)
            context = _asset_context(request, fresh, conflict=True, form=form)
            return render(request, "assets/asset_detail.html", context, status=409)
        except ValidationError as error:
            add_errors(form, error)
        else:
            new_tag = form.cleaned_data["asset_tag"]
            messages.success(request, f"{new_tag} saved.")
            return redirect("assets:detail", tag=new_tag)
    asset = _get_asset(request.user, tag)
    context = _asset_context(request, asset, form=form)
    return render(request, "assets/asset_detail.html", context, status=400)


@agent_required
@require_POST
def asset_move(request, tag):
    asset = _get_asset(request.user, tag)
    form = MoveForm(request.POST)
    error = None
    if form.is_valid():
        try:
            asset = services.move(
                asset,
                request.user,
                form.cleaned_data["state"],
                form.changes(),
                form.cleaned_data["note"],
                posted_version(request),
            )
        except StaleVersion:
            fresh = _get_asset(request.user, tag)
            context = _asset_context(request, fresh, conflict=True)
            return render(request, "assets/asset_detail.html", context, status=409)
        except ValidationError as invalid:
            error = error_text(invalid)
        else:
            messages.success(request, f"{asset.asset_tag} is now {asset.state_label.lower()}.")
            return redirect("assets:detail", tag=asset.asset_tag)
    else:
        error = " ".join(f"{name}: {' '.join(errs)}" for name, errs in form.errors.items())
    context = _asset_context(request, asset, move_error=error)
    return render(request, "assets/asset_detail.html", context, status=400)


# Contracts ---------------------------------------------------------------------------------


@agent_required
def contract_list(request):
    queryset = (
        Contract.objects.visible_to(request.user)
        .select_related("supplier", "owner")
        .annotate(asset_count=Count("assets", distinct=True))
    )
    filterset = ContractFilterSet(request.GET, queryset=queryset, request=request)
    rows, ordering, next_query = _page(request, queryset, filterset, CONTRACT_ORDERING, "reference")
    context = {
        "filterset": filterset,
        "contracts": rows,
        "ordering": ordering,
        "next_query": next_query,
        "query_without_ordering": query_without(request.GET, "ordering", "cursor"),
        "suppliers": Supplier.objects.visible_to(request.user).only("pk", "name"),
    }
    if is_htmx(request) and request.GET.get("cursor"):
        return render(request, "assets/_contract_rows.html", context)
    if is_htmx(request):
        return render(request, "assets/_contract_table.html", context)
    return render(request, "assets/contract_list.html", context)


@agent_required
def contract_detail(request, pk):
    contract = get_object_or_404(
        Contract.objects.visible_to(request.user)
        .select_related("supplier", "owner")
        .prefetch_related(
            Prefetch("assets", queryset=Asset.objects.select_related("assigned_to", "location")),
            "configuration_items",
            "licences__software",
            Prefetch("reminders", queryset=ContractReminder.objects.select_related("recipient")),
        ),
        pk=pk,
    )
    context = {
        "contract": contract,
        "due": services.due_events(contract, timezone.localdate()),
        "timeline": core.timeline(contract, request.user).reverse(),
    }
    return render(request, "assets/contract_detail.html", context)


# Licence compliance ------------------------------------------------------------------------


@agent_required
def licence_compliance(request):
    rows = compliance.report()
    wanted = request.GET.get("status", "")
    shown = [row for row in rows if row.status == wanted] if wanted else rows
    context = {
        "rows": shown,
        "summary": compliance.summary(rows),
        "statuses": compliance.ComplianceStatus.CHOICES,
        "status": wanted,
    }
    return render(request, "assets/compliance.html", context)


# Portal --------------------------------------------------------------------------------


def my_devices_panel(request) -> dict:
    """The portal home's "My devices": what is assigned to the employee, so they can name
    it when reporting an issue."""
    devices = list(
        Asset.objects.visible_to(request.user)
        .filter(assigned_to=request.user)
        .exclude(state__in=["retired", "disposed"])
        .order_by("asset_tag")[:20]
    )
    return {"devices": devices}
