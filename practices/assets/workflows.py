"""The lifecycle of an IT asset, from order to disposal, on the kernel's workflow engine.

An asset is not a ticket-like record, but the engine only needs a ``state``: moves are
checked the same way, and an illegal one names the allowed next states."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from itsm.core.workflow import Transition, Workflow


class AssetState(models.TextChoices):
    ORDERED = "ordered", _("Ordered")
    RECEIVED = "received", _("Received")
    IN_STOCK = "in_stock", _("In stock")
    DEPLOYED = "deployed", _("Deployed")
    IN_REPAIR = "in_repair", _("In repair")
    RETIRED = "retired", _("Retired")
    DISPOSED = "disposed", _("Disposed")


S = AssetState

#: States in which an asset is still part of the estate (counted, assignable).
ACTIVE_STATES = frozenset({S.RECEIVED, S.IN_STOCK, S.DEPLOYED, S.IN_REPAIR})


def _t(sources, target, label, style=""):
    return Transition(frozenset(sources), target, label, style=style)


asset_workflow = Workflow(
    states=AssetState.choices,
    initial=S.ORDERED,
    transitions=[
        _t({S.ORDERED}, S.RECEIVED, _("Receive"), "primary"),
        _t({S.RECEIVED, S.DEPLOYED, S.IN_REPAIR, S.RETIRED}, S.IN_STOCK, _("Put in stock")),
        _t({S.RECEIVED, S.IN_STOCK, S.IN_REPAIR}, S.DEPLOYED, _("Deploy"), "primary"),
        _t({S.IN_STOCK, S.DEPLOYED}, S.IN_REPAIR, _("Send to repair")),
        _t({S.RECEIVED, S.IN_STOCK, S.DEPLOYED, S.IN_REPAIR}, S.RETIRED, _("Retire"), "danger"),
        _t({S.RETIRED}, S.DISPOSED, _("Dispose"), "danger"),
    ],
)
