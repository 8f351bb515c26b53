"""The risk engine: ordered risk rules, the model's questionnaire and the probability x
impact matrix; the highest result wins, with every contribution kept as a reason.

(Filled in by the risk work.)"""


def calculate(change) -> None:
    """Recompute ``risk``, ``impact``, ``probability``, ``risk_score`` and ``risk_reasons``
    on the (saved) change and save those fields."""


def panel(change) -> dict:
    """What the change page's risk block shows (``templates/changes/_risk.html``)."""
    return {"reasons": change.risk_reasons}
