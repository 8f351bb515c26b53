"""Screens of IT asset management in the agent workspace: the asset register with its
filters, an asset's page (history, lifecycle buttons, fields), contracts and the licence
compliance report. Views stay thin: every write goes through ``services``."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework.decorators import action

from itsm.accounts.decorators import agent_required
from itsm.accounts.models import Location
from itsm.api.screens import Column, TrackedScreens
from itsm.core import services as core
from itsm.core.services import StaleVersion
from itsm.core.views import add_errors, error_text

from . import compliance, services
from .filters import ASSET_ORDERING, CONTRACT_ORDERING, AssetFilterSet, ContractFilterSet
from .forms import AssetForm, MoveForm
from .models import Asset, Contract, ContractReminder, Supplier

# Assets ------------------------------------------------------------------------------------


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
                messages.success(request, gettext("%(tag)s registered.") % {"tag": asset.asset_tag})
                return redirect("assets:detail", tag=asset.asset_tag)
        status = 400
    return render(request, "assets/asset_form.html", {"form": form}, status=status)


class AssetScreens(TrackedScreens):
    """The asset register and an asset's page: its fields, contracts, history, editing and
    moving it through its lifecycle (the kernel's screens)."""

    queryset = Asset.objects.select_related("vendor", "assigned_to", "location")
    lookup_field = "asset_tag"
    lookup_url_kwarg = "tag"
    lookup_value_regex = "[^/]+"
    page_template = "assets/asset_detail.html"
    context_object_name = "asset"
    edit = None  # ``edit_asset`` below: a new tag moves the page
    filterset_class = AssetFilterSet
    ordering_fields = ASSET_ORDERING
    default_ordering = "asset_tag"
    list_template = "assets/asset_list.html"
    rows_template = "assets/_asset_rows.html"
    rows_name = "assets"
    empty_text = _("No assets match.")
    columns = (
        Column(_("Tag"), "asset_tag"),
        Column(_("Model"), "model"),
        Column(_("Serial number")),
        Column(_("State"), "state"),
        Column(_("Assigned to")),
        Column(_("Location")),
        Column(_("Vendor")),
        Column(_("Warranty ends")),
        Column(_("Updated"), "updated_at"),
    )

    def list_context(self, params, links=None, **declared):
        context = super().list_context(params, links, **declared)
        context["locations"] = Location.objects.only("pk", "name")
        context["suppliers"] = Supplier.objects.visible_to(self.request.user).only("pk", "name")
        return context

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action != "list":
            queryset = queryset.select_related("configuration_item")
        return queryset

    def page_context(self, record, **extra):
        extra.setdefault("form", AssetForm(instance=record))
        extra.setdefault("move_form", MoveForm())
        return super().page_context(
            record,
            transitions=record.workflow.available(record, self.request.user),
            locations=Location.objects.only("pk", "name"),
            contracts=record.contracts.select_related("supplier").order_by("end_date", "pk"),
            timeline=core.timeline(record, self.request.user).reverse(),
            **extra,
        )

    @action(detail=True, methods=["post"], url_path="edit", url_name="edit")
    def edit_asset(self, request, tag=None):
        asset = self.get_object()
        form = AssetForm(request.data, instance=asset)
        if form.is_valid():
            try:
                services.update_asset(asset, request.user, form.values(), self.version())
            except StaleVersion:
                return self.page(self.reread(asset), 409, conflict=True, form=form)
            except ValidationError as error:
                add_errors(form, error)
            else:
                new_tag = form.cleaned_data["asset_tag"]
                messages.success(request, gettext("%(number)s saved.") % {"number": new_tag})
                return redirect("assets:detail", tag=new_tag)
        return self.page(self.reread(asset), 400, form=form)

    @action(detail=True, methods=["post"])
    def move(self, request, tag=None):
        asset = self.get_object()
        form = MoveForm(request.data)
        if form.is_valid():
            try:
                asset = services.move(
                    asset,
                    request.user,
                    form.cleaned_data["state"],
                    form.changes(),
                    form.cleaned_data["note"],
                    self.version(),
                )
            except StaleVersion:
                return self.page(self.reread(asset), 409, conflict=True)
            except ValidationError as invalid:
                error = error_text(invalid)
            else:
                messages.success(
                    request,
                    gettext("%(number)s is now %(state)s.")
                    % {"number": asset.asset_tag, "state": services.in_sentence(asset.state_label)},
                )
                return redirect("assets:detail", tag=asset.asset_tag)
        else:
            error = " ".join(f"{name}: {' '.join(errs)}" for name, errs in form.errors.items())
        return self.page(asset, 400, move_error=error)


# Contracts ---------------------------------------------------------------------------------


class ContractScreens(TrackedScreens):
    """Contracts with suppliers: the list and a contract's page (assets, CIs and licences
    it covers, its reminders and history)."""

    queryset = Contract.objects.select_related("supplier", "owner")
    page_template = "assets/contract_detail.html"
    context_object_name = "contract"
    edit = None  # contracts are edited through the API and the admin
    filterset_class = ContractFilterSet
    ordering_fields = CONTRACT_ORDERING
    default_ordering = "reference"
    list_template = "assets/contract_list.html"
    rows_template = "assets/_contract_rows.html"
    rows_name = "contracts"
    empty_text = _("No contracts match.")
    columns = (
        Column(_("Reference"), "reference"),
        Column(_("Kind")),
        Column(_("Supplier")),
        Column(_("Starts")),
        Column(_("Ends")),
        Column(_("Renews")),
        Column(_("Notice")),
        Column(_("Cost per year")),
        Column(_("Owner")),
        Column(_("Assets")),
    )

    def list_queryset(self):
        return self.get_queryset().annotate(asset_count=Count("assets", distinct=True))

    def list_context(self, params, links=None, **declared):
        context = super().list_context(params, links, **declared)
        context["suppliers"] = Supplier.objects.visible_to(self.request.user).only("pk", "name")
        return context

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":
            return queryset
        return queryset.prefetch_related(
            Prefetch("assets", queryset=Asset.objects.select_related("assigned_to", "location")),
            "configuration_items",
            "licences__software",
            Prefetch("reminders", queryset=ContractReminder.objects.select_related("recipient")),
        )

    def page_context(self, record, **extra):
        return super().page_context(
            record,
            due=services.due_events(record, timezone.localdate()),
            timeline=core.timeline(record, self.request.user).reverse(),
            **extra,
        )


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
