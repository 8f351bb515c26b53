"""The change schedule as other practices see it, without importing change enablement.

A practice that knows when configuration items are being changed (change enablement:
approved change windows and maintenance windows) registers a provider here, from its
``PracticeConfig.connect``; a practice that wants to know (monitoring, suppressing alerts
on CIs under change) asks ``under_change``. ``itsm`` imports no practice: with no provider
registered, nothing is under change.

A provider is a callable ``(ci_ids: set[int], at: datetime) -> dict[int, str]``: for the
CIs among ``ci_ids`` under change at ``at``, why ("CHG0001234 Patch the DB servers, until
04:00 UTC", "Maintenance window Sunday patching"). It answers in a few queries whatever
the number of CIs.
"""

from collections.abc import Callable, Iterable
from datetime import datetime

from django.utils import timezone

Provider = Callable[[set, datetime], dict]

_providers: dict[str, Provider] = {}


def register(key: str, provider: Provider) -> None:
    """Add (or replace) the provider named ``key``."""
    _providers[key] = provider


def unregister(key: str) -> None:
    _providers.pop(key, None)


def providers() -> dict[str, Provider]:
    return dict(_providers)


def under_change(ci_ids: Iterable[int], at: datetime | None = None) -> dict[int, str]:
    """The CIs among ``ci_ids`` that are under change at ``at`` (now by default), each
    with the reasons every provider gave, joined."""
    wanted = {int(pk) for pk in ci_ids}
    if not wanted:
        return {}
    at = at or timezone.now()
    found: dict[int, list[str]] = {}
    for provider in _providers.values():
        for ci_id, reason in provider(wanted, at).items():
            if ci_id in wanted:
                found.setdefault(ci_id, []).append(reason)
    return {ci_id: "; ".join(reasons) for ci_id, reasons in found.items()}


def is_under_change(ci_id: int, at: datetime | None = None) -> str | None:
    """Why one CI is under change at ``at``, or None."""
    return under_change([ci_id], at).get(int(ci_id))
