"""IT asset management operations. API views, screens, the demo and the daily reminder task
all call these; each runs in one transaction, refuses bad input with a ValidationError that
names the field, and writes what it changed (who, when, old and new value) to the journal
of the asset, contract, supplier or licence."""

import logging
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import get_language, gettext, ngettext
from django.utils.translation import gettext_lazy as _

from itsm.core import services as core
from itsm.core import writes

from . import compliance
from .models import RESERVED_TAGS, Asset, Contract, ContractReminder, Licence, Supplier
from .workflows import AssetState

logger = logging.getLogger(__name__)

#: Fields of an asset that may be set directly (the state moves through ``move``).
ASSET_FIELDS = (
    "asset_tag",
    "model",
    "serial_number",
    "vendor",
    "purchase_date",
    "purchase_cost",
    "currency",
    "warranty_end",
    "assigned_to",
    "location",
    "configuration_item",
    "notes",
)
SUPPLIER_FIELDS = ("name", "contact", "email", "phone", "website", "notes")
CONTRACT_FIELDS = (
    "reference",
    "kind",
    "supplier",
    "start_date",
    "end_date",
    "renewal_date",
    "notice_period_days",
    "cost_per_year",
    "currency",
    "owner",
    "notes",
)
CONTRACT_M2M = ("assets", "configuration_items")
LICENCE_FIELDS = (
    "software",
    "reference",
    "quantity",
    "metric",
    "contract",
    "valid_from",
    "valid_until",
    "cost",
    "currency",
)


def _require_staff(actor) -> None:
    if not writes.is_staff(actor):
        raise PermissionDenied


def _unknown(changes: dict, allowed) -> None:
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, gettext("This field cannot be set here.")))


# Suppliers ---------------------------------------------------------------------------------


SUPPLIER_SPEC = writes.WriteSpec(
    model=Supplier,
    create=writes.Access(staff=SUPPLIER_FIELDS),
    update=writes.Access(staff=SUPPLIER_FIELDS),
    refused=_("This field cannot be set here."),
    full_clean=True,
    created_data=lambda supplier: {"name": supplier.name},
)


def create_supplier(actor, data: dict) -> Supplier:
    return writes.open(SUPPLIER_SPEC, actor, data)


def update_supplier(supplier: Supplier, actor, changes: dict, expected_version=None) -> Supplier:
    return writes.change(SUPPLIER_SPEC, supplier, actor, changes, expected_version)


# Assets ------------------------------------------------------------------------------------


def _check_asset(asset: Asset, changed=None) -> None:
    errors = {}
    if changed is None and asset.state not in Asset.workflow.state_names:
        states = ", ".join(Asset.workflow.state_names)
        errors["state"] = gettext("'%(target)s' is not a state. States: %(states)s.") % {
            "target": asset.state,
            "states": states,
        }
    if asset.asset_tag and asset.asset_tag.lower() in RESERVED_TAGS:
        errors["asset_tag"] = gettext("'%(tag)s' is reserved; choose another tag.") % {
            "tag": asset.asset_tag
        }
    if asset.warranty_end and asset.purchase_date and asset.warranty_end < asset.purchase_date:
        errors["warranty_end"] = gettext("The warranty cannot end before the purchase date.")
    if asset.assigned_to_id and not asset.assigned_to.is_active:
        errors["assigned_to"] = gettext("%(person)s is not an active user.") % {
            "person": asset.assigned_to
        }
    if not errors and asset.state == AssetState.DEPLOYED:
        if not (asset.assigned_to_id or asset.location_id):
            errors["assigned_to"] = gettext(
                "A deployed asset needs an assigned user or a location."
            )
    writes.refuse(errors)


ASSET_SPEC = writes.WriteSpec(
    model=Asset,
    # It starts as ordered unless ``state`` says where it already is (registering
    # equipment already in use).
    create=writes.Access(staff=(*ASSET_FIELDS, "state")),
    update=writes.Access(staff=(*ASSET_FIELDS, "state")),
    refused=_("This field cannot be set here."),
    clean=lambda data, actor: {k: v for k, v in data.items() if k != "state" or v},
    validate=_check_asset,
    full_clean=True,
    created_data=lambda asset: {"state": asset.state, "model": asset.model},
)


def create_asset(actor, data: dict) -> Asset:
    """Register an asset. It starts as ordered unless ``state`` says where it already is
    (registering equipment already in use); a deployed asset needs a user or location."""
    return writes.open(ASSET_SPEC, actor, data)


def update_asset(asset: Asset, actor, changes: dict, expected_version: int | None = None) -> Asset:
    """Change an asset's fields (and, with ``state``, move it): one journal entry of every
    field that changed with its old and new value."""
    return writes.change(ASSET_SPEC, asset, actor, changes, expected_version)


def move(
    asset: Asset,
    actor,
    target: str,
    changes: dict | None = None,
    note: str = "",
    expected_version: int | None = None,
) -> Asset:
    """Take the asset to ``target`` in its lifecycle, optionally setting the assignment in
    the same step (deploy to someone). An illegal move names the allowed next states."""
    changes = dict(changes or {})
    _unknown(changes, ("assigned_to", "location"))
    return writes.change(
        ASSET_SPEC, asset, actor, {**changes, "state": target}, expected_version, state_note=note
    )


# Contracts ---------------------------------------------------------------------------------


#: The years a contract's dates may fall in: wide enough for any real contract, narrow
#: enough that date arithmetic (a notice window before a date) can never leave the calendar.
CONTRACT_YEARS = (1900, 2200)
CONTRACT_DATES = ("start_date", "end_date", "renewal_date")


def _check_contract(contract: Contract, changed=None) -> None:
    errors = {}
    first, last = CONTRACT_YEARS
    for name in CONTRACT_DATES:
        value = getattr(contract, name)
        if isinstance(value, date) and not first <= value.year <= last:
            errors[name] = gettext("The date must be between the years %(first)s and %(last)s.") % {
                "first": first,
                "last": last,
            }
    writes.refuse(errors)
    if contract.start_date and contract.end_date and contract.end_date < contract.start_date:
        errors["end_date"] = gettext("The contract cannot end before it starts.")
    if (
        contract.renewal_date
        and contract.start_date
        and contract.renewal_date < contract.start_date
    ):
        errors["renewal_date"] = gettext("The renewal date cannot be before the start date.")
    elif contract.renewal_date and contract.end_date and contract.renewal_date > contract.end_date:
        errors["renewal_date"] = gettext("The renewal date cannot be after the end date.")
    if contract.owner_id and not contract.owner.is_active:
        errors["owner"] = gettext("%(person)s is not an active user.") % {"person": contract.owner}
    writes.refuse(errors)


CONTRACT_SPEC = writes.WriteSpec(
    model=Contract,
    create=writes.Access(staff=(*CONTRACT_FIELDS, *CONTRACT_M2M)),
    update=writes.Access(staff=(*CONTRACT_FIELDS, *CONTRACT_M2M)),
    m2m=CONTRACT_M2M,
    refused=_("This field cannot be set here."),
    validate=_check_contract,
    full_clean=True,
    created_data=lambda contract: {"reference": contract.reference},
)


def create_contract(actor, data: dict) -> Contract:
    return writes.open(CONTRACT_SPEC, actor, data)


def update_contract(contract: Contract, actor, changes: dict, expected_version=None) -> Contract:
    return writes.change(CONTRACT_SPEC, contract, actor, changes, expected_version)


# Licences ----------------------------------------------------------------------------------


def _check_licence(licence: Licence, changed=None) -> None:
    errors = {}
    if licence.software_id and not compliance.is_software(licence.software):
        errors["software"] = gettext(
            "%(ci)s is not software (its class is not a software class)."
        ) % {"ci": licence.software}
    if licence.valid_from and licence.valid_until and licence.valid_until < licence.valid_from:
        errors["valid_until"] = gettext("A licence cannot end before it starts.")
    writes.refuse(errors)


LICENCE_SPEC = writes.WriteSpec(
    model=Licence,
    create=writes.Access(staff=LICENCE_FIELDS),
    update=writes.Access(staff=LICENCE_FIELDS),
    refused=_("This field cannot be set here."),
    validate=_check_licence,
    full_clean=True,
    created_data=lambda licence: {"software": str(licence.software), "quantity": licence.quantity},
)


def create_licence(actor, data: dict) -> Licence:
    return writes.open(LICENCE_SPEC, actor, data)


def update_licence(licence: Licence, actor, changes: dict, expected_version=None) -> Licence:
    return writes.change(LICENCE_SPEC, licence, actor, changes, expected_version)


# Reminders ---------------------------------------------------------------------------------


def due_events(contract: Contract, today: date) -> list[tuple[str, date]]:
    """The renewal and expiry of ``contract`` whose notice window holds ``today``: from
    ``notice_period_days`` before the date up to the date itself."""
    events = []
    window = timedelta(days=contract.notice_period_days)
    for event, day in (
        (ContractReminder.Event.RENEWAL, contract.renewal_date),
        (ContractReminder.Event.EXPIRY, contract.end_date),
    ):
        if day is None or any(d == day for _, d in events):
            continue  # renewing and ending the same day: one reminder
        try:
            opens = day - window
        except OverflowError:  # a date near the start of the calendar (an old bad row)
            opens = date.min
        if opens <= today <= day:
            events.append((event, day))
    return events


def send_contract_reminders(today: date | None = None) -> int:
    """Remind each contract's owner ahead of renewal and expiry through the notification
    outbox; a reminder already sent for a contract, event and date is never sent again.
    Returns how many were sent."""
    today = today or timezone.localdate()
    candidates = (
        Contract.objects.filter(owner__isnull=False, owner__is_active=True)
        .filter(end_date__gte=today)
        .select_related("owner", "supplier")
        .prefetch_related("reminders")
        .order_by("pk")
    )
    sent = 0
    for contract in candidates:
        try:
            sent += _remind_contract(contract, today)
        except Exception:  # one bad contract must not stop the reminders of the others
            logger.exception("Contract reminders failed for contract %s", contract.pk)
    return sent


def _remind_contract(contract: Contract, today: date) -> int:
    sent = 0
    done = {(r.event, r.due_date) for r in contract.reminders.all()}
    for event, day in due_events(contract, today):
        if (event, day) in done:
            continue
        if _remind(contract, event, day, today):
            sent += 1
    return sent


def in_sentence(label) -> str:
    """A label inside a sentence (lower case in English)."""
    text = str(label)
    return text.lower() if (get_language() or "en").startswith("en") else text


def _remind(contract: Contract, event: str, day: date, today: date) -> bool:
    try:
        with transaction.atomic():
            # The unique constraint makes a concurrent run's second reminder fail here.
            ContractReminder.objects.create(
                contract=contract, event=event, due_date=day, recipient=contract.owner
            )
            event_label = ContractReminder.Event(event).label
            days = (day - today).days

            def values():
                if days == 0:
                    when = gettext("today")
                else:
                    when = ngettext("in %(count)d day", "in %(count)d days", days) % {"count": days}
                return {
                    "reference": contract.reference,
                    "supplier": contract.supplier,
                    "event": in_sentence(event_label),
                    "kind": in_sentence(contract.get_kind_display()),
                    "when": when,
                    "day": f"{day:%Y-%m-%d}",
                    "notice": contract.notice_period_days,
                }

            core.notify(
                [contract.owner],
                lambda: (
                    gettext("Contract %(reference)s (%(supplier)s): %(event)s %(when)s, %(day)s")
                    % values()
                ),
                lambda: (
                    gettext(
                        "The %(kind)s contract %(reference)s with %(supplier)s has its %(event)s on "
                        "%(day)s (%(when)s). Notice period: %(notice)s days."
                    )
                    % values()
                ),
                record=contract,
            )
    except IntegrityError:
        return False
    return True
