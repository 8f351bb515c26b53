"""IT asset management operations. API views, screens, the demo and the daily reminder task
all call these; each runs in one transaction, refuses bad input with a ValidationError that
names the field, and writes what it changed (who, when, old and new value) to the journal
of the asset, contract, supplier or licence."""

import logging
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from itsm.core import services as core
from itsm.core.models import JournalEntry

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
    if actor is not None and not actor.is_agent:
        raise PermissionDenied


def _unknown(changes: dict, allowed) -> None:
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field cannot be set here."))


def _validate(obj, exclude=()) -> None:
    """The model's own checks (formats, choices, uniqueness, constraints), by field."""
    obj.full_clean(exclude=list(exclude))


def _journal_fields(obj, actor, diff: dict) -> None:
    if diff:
        core.write_journal(obj, JournalEntry.Kind.FIELDS, actor, data=diff)


def _save(obj, diff: dict, extra: tuple = ()) -> None:
    names = {
        obj._meta.get_field(n).attname for n in diff if not obj._meta.get_field(n).many_to_many
    }
    if names or extra:
        obj.save(update_fields=sorted(names | set(extra)))


def _locked(model, obj, expected_version=None):
    """The row, re-read under a lock; a stale ``expected_version`` is refused."""
    locked = model.objects.select_for_update().get(pk=obj.pk)
    if expected_version is not None and getattr(locked, "version", None) != expected_version:
        raise core.StaleVersion(locked)
    return locked


# Suppliers ---------------------------------------------------------------------------------


@transaction.atomic
def create_supplier(actor, data: dict) -> Supplier:
    _require_staff(actor)
    _unknown(data, SUPPLIER_FIELDS)
    supplier = Supplier(**data)
    _validate(supplier)
    supplier.save()
    core.write_journal(supplier, JournalEntry.Kind.CREATED, actor, data={"name": supplier.name})
    return supplier


@transaction.atomic
def update_supplier(supplier: Supplier, actor, changes: dict) -> Supplier:
    _require_staff(actor)
    _unknown(changes, SUPPLIER_FIELDS)
    supplier = _locked(Supplier, supplier)
    diff = core.set_fields(supplier, changes)
    _validate(supplier)
    _save(supplier, diff)
    _journal_fields(supplier, actor, diff)
    return supplier


# Assets ------------------------------------------------------------------------------------


def _check_asset(asset: Asset) -> None:
    errors = {}
    if asset.asset_tag and asset.asset_tag.lower() in RESERVED_TAGS:
        errors["asset_tag"] = f"'{asset.asset_tag}' is reserved; choose another tag."
    if asset.warranty_end and asset.purchase_date and asset.warranty_end < asset.purchase_date:
        errors["warranty_end"] = "The warranty cannot end before the purchase date."
    if asset.assigned_to_id and not asset.assigned_to.is_active:
        errors["assigned_to"] = f"{asset.assigned_to} is not an active user."
    if errors:
        raise ValidationError(errors)
    _validate(asset)


def _check_deployable(asset: Asset) -> None:
    if asset.state == AssetState.DEPLOYED and not (asset.assigned_to_id or asset.location_id):
        raise ValidationError(
            {"assigned_to": "A deployed asset needs an assigned user or a location."}
        )


@transaction.atomic
def create_asset(actor, data: dict) -> Asset:
    """Register an asset. It starts as ordered unless ``state`` says where it already is
    (registering equipment already in use); a deployed asset needs a user or location."""
    _require_staff(actor)
    data = dict(data)
    state = data.pop("state", None) or Asset.workflow.initial
    _unknown(data, ASSET_FIELDS)
    if state not in Asset.workflow.state_names:
        raise ValidationError(
            {"state": f"'{state}' is not a state. States: {', '.join(Asset.workflow.state_names)}."}
        )
    asset = Asset(state=state, **data)
    _check_asset(asset)
    _check_deployable(asset)
    asset.save()
    core.write_journal(
        asset,
        JournalEntry.Kind.CREATED,
        actor,
        data={"state": state, "model": asset.model},
    )
    return asset


@transaction.atomic
def update_asset(asset: Asset, actor, changes: dict, expected_version: int | None = None) -> Asset:
    """Change an asset's fields (and, with ``state``, move it): one journal entry of every
    field that changed with its old and new value."""
    _require_staff(actor)
    changes = dict(changes)
    target = changes.pop("state", None)
    _unknown(changes, ASSET_FIELDS)
    asset = _locked(Asset, asset, expected_version)
    if asset.state == AssetState.DISPOSED and changes:
        raise ValidationError({"state": "A disposed asset can no longer be changed."})
    if target is not None and target != asset.state:
        return _move(asset, actor, target, changes)
    diff = core.set_fields(asset, changes)
    if not diff:
        return asset
    _check_asset(asset)
    _check_deployable(asset)
    asset.version += 1
    asset.updated_at = timezone.now()
    _save(asset, diff, extra=("version", "updated_at"))
    _journal_fields(asset, actor, diff)
    return asset


@transaction.atomic
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
    _require_staff(actor)
    changes = dict(changes or {})
    _unknown(changes, ("assigned_to", "location"))
    asset = _locked(Asset, asset, expected_version)
    return _move(asset, actor, target, changes, note)


def _move(asset: Asset, actor, target: str, changes: dict, note: str = "") -> Asset:
    Asset.workflow.find(asset, target, actor)
    before = asset.state
    diff = core.set_fields(asset, changes)
    Asset.workflow.apply(asset, target, actor)
    _check_deployable(asset)
    _check_asset(asset)
    asset.version += 1
    asset.updated_at = timezone.now()
    _save(asset, diff, extra=("state", "version", "updated_at"))
    _journal_fields(asset, actor, diff)
    core.write_journal(
        asset,
        JournalEntry.Kind.STATE,
        actor,
        body=(note or "").strip()[:2000],
        data={"from": before, "to": asset.state},
    )
    return asset


# Contracts ---------------------------------------------------------------------------------


#: The years a contract's dates may fall in: wide enough for any real contract, narrow
#: enough that date arithmetic (a notice window before a date) can never leave the calendar.
CONTRACT_YEARS = (1900, 2200)
CONTRACT_DATES = ("start_date", "end_date", "renewal_date")


def _check_contract(contract: Contract) -> None:
    errors = {}
    first, last = CONTRACT_YEARS
    for name in CONTRACT_DATES:
        value = getattr(contract, name)
        if isinstance(value, date) and not first <= value.year <= last:
            errors[name] = f"The date must be between the years {first} and {last}."
    if errors:
        raise ValidationError(errors)
    if contract.start_date and contract.end_date and contract.end_date < contract.start_date:
        errors["end_date"] = "The contract cannot end before it starts."
    if (
        contract.renewal_date
        and contract.start_date
        and contract.renewal_date < contract.start_date
    ):
        errors["renewal_date"] = "The renewal date cannot be before the start date."
    elif contract.renewal_date and contract.end_date and contract.renewal_date > contract.end_date:
        errors["renewal_date"] = "The renewal date cannot be after the end date."
    if contract.owner_id and not contract.owner.is_active:
        errors["owner"] = f"{contract.owner} is not an active user."
    if errors:
        raise ValidationError(errors)
    _validate(contract)


@transaction.atomic
def create_contract(actor, data: dict) -> Contract:
    _require_staff(actor)
    data = dict(data)
    related = {name: data.pop(name) for name in CONTRACT_M2M if name in data}
    _unknown(data, CONTRACT_FIELDS)
    contract = Contract(**data)
    _check_contract(contract)
    contract.save()
    for name, objects in related.items():
        getattr(contract, name).set(list(objects))
    core.write_journal(
        contract, JournalEntry.Kind.CREATED, actor, data={"reference": contract.reference}
    )
    return contract


@transaction.atomic
def update_contract(contract: Contract, actor, changes: dict) -> Contract:
    _require_staff(actor)
    changes = dict(changes)
    related = {name: changes.pop(name) for name in CONTRACT_M2M if name in changes}
    _unknown(changes, CONTRACT_FIELDS)
    contract = _locked(Contract, contract)
    diff = core.set_fields(contract, changes)
    _check_contract(contract)
    if diff:
        contract.updated_at = timezone.now()
        _save(contract, diff, extra=("updated_at",))
    for name, objects in related.items():
        change = core.set_m2m(contract, name, objects)
        if change:
            diff[name] = change
    _journal_fields(contract, actor, diff)
    return contract


# Licences ----------------------------------------------------------------------------------


def _check_licence(licence: Licence) -> None:
    errors = {}
    if licence.software_id and not compliance.is_software(licence.software):
        errors["software"] = (
            f"{licence.software} is not software (its class is not a software class)."
        )
    if licence.valid_from and licence.valid_until and licence.valid_until < licence.valid_from:
        errors["valid_until"] = "A licence cannot end before it starts."
    if errors:
        raise ValidationError(errors)
    _validate(licence)


@transaction.atomic
def create_licence(actor, data: dict) -> Licence:
    _require_staff(actor)
    _unknown(data, LICENCE_FIELDS)
    licence = Licence(**data)
    _check_licence(licence)
    licence.save()
    core.write_journal(
        licence,
        JournalEntry.Kind.CREATED,
        actor,
        data={"software": str(licence.software), "quantity": licence.quantity},
    )
    return licence


@transaction.atomic
def update_licence(licence: Licence, actor, changes: dict) -> Licence:
    _require_staff(actor)
    _unknown(changes, LICENCE_FIELDS)
    licence = _locked(Licence, licence)
    diff = core.set_fields(licence, changes)
    _check_licence(licence)
    _save(licence, diff)
    _journal_fields(licence, actor, diff)
    return licence


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


def _remind(contract: Contract, event: str, day: date, today: date) -> bool:
    try:
        with transaction.atomic():
            # The unique constraint makes a concurrent run's second reminder fail here.
            ContractReminder.objects.create(
                contract=contract, event=event, due_date=day, recipient=contract.owner
            )
            label = ContractReminder.Event(event).label.lower()
            days = (day - today).days
            when = "today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
            core.notify(
                [contract.owner],
                f"Contract {contract.reference} ({contract.supplier}): {label} {when}, {day}",
                f"The {contract.get_kind_display().lower()} contract {contract.reference} with "
                f"{contract.supplier} has its {label} on {day:%Y-%m-%d} ({when}). "
                f"Notice period: {contract.notice_period_days} days.",
                record=contract,
            )
    except IntegrityError:
        return False
    return True
