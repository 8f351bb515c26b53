"""Filters of the asset register, contracts and licences: one FilterSet per model, used by
the API and the screens alike."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from itsm.accounts.models import Location
from itsm.core.filters import FilterSet, IdFilter, UserFilter

from .models import Asset, Contract, Licence, Supplier
from .workflows import AssetState

#: Columns the lists sort by: non-null fields the keyset cursor can carry (text, numbers,
#: date-times; not plain dates).
ASSET_ORDERING = ["asset_tag", "model", "state", "created_at", "updated_at"]
CONTRACT_ORDERING = ["reference", "created_at", "updated_at"]


class AssetFilterSet(FilterSet):
    # distinct=False: one row per asset already.
    state = django_filters.MultipleChoiceFilter(choices=AssetState.choices, distinct=False)
    assigned_to = UserFilter(help_text=_("Username, or `me`."))
    location = django_filters.ModelChoiceFilter(queryset=Location.objects.all())
    supplier = django_filters.ModelChoiceFilter(
        field_name="vendor", queryset=Supplier.objects.all(), help_text=_("The vendor's id.")
    )
    warranty_expires_before = django_filters.DateFilter(
        field_name="warranty_end", lookup_expr="lt", help_text=_("Warranty ends before this date.")
    )
    search = django_filters.CharFilter(
        method="filter_text", label=_("Search"), help_text=_("Asset tag, serial number or model.")
    )

    class Meta:
        model = Asset
        fields = ["state", "assigned_to", "location", "supplier", "warranty_expires_before"]

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(asset_tag__icontains=value)
            | Q(serial_number__icontains=value)
            | Q(model__icontains=value)
        )


class SupplierFilterSet(FilterSet):
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains")

    class Meta:
        model = Supplier
        fields = ["search"]


class ContractFilterSet(FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=Contract.Kind.choices, distinct=False)
    supplier = django_filters.ModelChoiceFilter(queryset=Supplier.objects.all())
    owner = UserFilter(help_text=_("Username, or `me`."))
    ends_before = django_filters.DateFilter(field_name="end_date", lookup_expr="lt")
    active_on = django_filters.DateFilter(method="filter_active_on", label=_("Active on"))
    search = django_filters.CharFilter(
        method="filter_text", label=_("Search"), help_text=_("Reference or supplier name.")
    )

    class Meta:
        model = Contract
        fields = ["kind", "supplier", "owner", "ends_before", "active_on"]

    def filter_active_on(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(start_date__lte=value, end_date__gte=value)

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(reference__icontains=value) | Q(supplier__name__icontains=value))


class LicenceFilterSet(FilterSet):
    software = IdFilter(field_name="software_id")
    contract = IdFilter(field_name="contract_id")
    valid_on = django_filters.DateFilter(method="filter_valid_on", label=_("Valid on"))

    class Meta:
        model = Licence
        fields = ["software", "contract", "valid_on"]

    def filter_valid_on(self, queryset, name, value):
        return queryset.filter(Licence.valid_on(value)) if value else queryset
