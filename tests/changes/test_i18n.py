"""Change enablement in the reader's language: what the platform writes on a change (its
journal lines, the risk matrix's reasons) is kept in English with its message and values,
and read in each person's language; what it sends (an approval request) is worded in each
recipient's. German words are put in the catalogue here, so the tests do not depend on the
shipped translations."""

import pytest
from django.utils import translation

from changes import risk
from changes.models import ApprovalLevel, ApprovalPolicy, Change
from itsm.core.i18n import Said
from itsm.core.models import JournalEntry, Notification
from tests import factories
from tests.changes.test_approvals import PLANS

WAITING = "Waiting for approval (level %(level)s) from any one of %(names)s (%(kind)s).%(due)s"
GERMAN = {
    WAITING: "Wartet auf Genehmigung (Stufe %(level)s) durch eine Person von %(names)s "
    "(%(kind)s).%(due)s",
    "peer review": "Peer-Review",
    "Change approval needed: %(number)s %(title)s": "Change-Genehmigung nötig: %(number)s "
    "%(title)s",
    "an outage is expected": "ein Ausfall wird erwartet",
    "+%(points)s %(reason)s": "+%(points)s %(reason)s",
    "an emergency change": "ein Notfall-Change",
}


@pytest.fixture
def german(monkeypatch):
    """The German catalogue with ``GERMAN`` on top (restored after the test)."""
    factories.german_words(monkeypatch, GERMAN)


@pytest.fixture
def peer_review(normal_model):
    policy = ApprovalPolicy.objects.create(name="Peer review")
    ApprovalLevel.objects.create(policy=policy, order=1, kind=ApprovalLevel.Kind.PEER)
    normal_model.approval_policy = policy
    normal_model.save()
    return policy


@pytest.mark.django_db
def test_the_approval_request_is_read_and_sent_in_each_persons_language(
    german, make_change, peer_review, agent, manager, window
):
    from changes import services

    manager.language = "de"
    manager.save(update_fields=["language"])
    change = make_change(planned_start=window[0], planned_end=window[1])
    change = services.update_change(change, agent, {**PLANS, "state": "assess"})
    services.update_change(change, agent, {"state": "authorise"})

    entry = (
        JournalEntry.objects.for_record(change)
        .filter(kind=JournalEntry.Kind.APPROVAL)
        .order_by("pk")
        .last()
    )
    # Stored in English (what search and exports read), with its message and values.
    assert entry.body == f"Waiting for approval (level 1) from any one of {manager} (peer review)."
    assert entry.data["said"]["message"] == WAITING
    assert entry.text == entry.body
    with translation.override("de"):
        assert entry.text == (
            f"Wartet auf Genehmigung (Stufe 1) durch eine Person von {manager} (Peer-Review)."
        )
    # The approver chose German: the request reaches them in German.
    notice = Notification.objects.get(recipient=manager, subject__contains=change.number)
    assert notice.subject == f"Change-Genehmigung nötig: {change.number} {change.title}"


@pytest.mark.django_db
def test_the_risk_matrixs_reasons_are_read_in_the_readers_language(
    german, make_change, emergency_model
):
    change = make_change(model=emergency_model, outage_expected=True)
    change = Change.objects.get(pk=change.pk)
    matrix = {r["name"]: r for r in change.risk_reasons if r["source"] == "matrix"}
    # The English text as before, and each sentence kept to be read again.
    assert matrix["impact"]["value"] == ["an outage is expected"]
    assert [Said.from_data(s).in_english() for s in matrix["impact"]["said"]] == (
        matrix["impact"]["value"]
    )
    assert "+1 an emergency change" in matrix["probability"]["value"]
    assert risk.explain(change)["matrix"]["impact_reasons"] == ["an outage is expected"]
    with translation.override("de"):
        explained = risk.explain(change)["matrix"]
    assert explained["impact_reasons"] == ["ein Ausfall wird erwartet"]
    assert "+1 ein Notfall-Change" in explained["probability_reasons"]
