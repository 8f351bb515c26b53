"""Conflicts and the schedule: windows, conflict detection, freezes.

(Filled in by the schedule work.)"""


def implementation_refusal(change, at) -> str | None:
    """Why the change may not start implementation at ``at`` (on hold, inside a blackout),
    or None."""
    if change.on_hold:
        return f"The change is on hold: {change.hold_reason or 'a freeze'}."
    return None


def detect(change) -> list:
    """Recompute and store the change's conflicts; returns them."""
    return []


def panel(change) -> dict:
    """What the change page's conflicts block shows (``templates/changes/_conflicts.html``)."""
    return {
        "conflicts": list(
            change.conflicts.select_related("other_change", "window", "configuration_item")
        )
    }
