"""The workflow engine on a tiny made-up workflow: no database, no practice app."""

from dataclasses import dataclass

import pytest
from django.core.exceptions import ValidationError

from itsm.core.workflow import Transition, Workflow, anyone, staff_only


@dataclass
class Ticket:
    state: str = "draft"
    summary: str = ""
    approver: str | None = None
    approved: bool = False
    stamped: bool = False
    owner_id: int = 1


@dataclass
class Person:
    pk: int
    is_agent: bool


STAFF = Person(pk=10, is_agent=True)
OWNER = Person(pk=1, is_agent=False)
OTHER = Person(pk=2, is_agent=False)


def needs_approval(ticket, user):
    return None if ticket.approved else "Wait for the approval."


def stamp(ticket, user):
    ticket.stamped = True


def owner_only(ticket, user):
    return user is not None and ticket.owner_id == user.pk


def make_workflow(effects=(stamp,)):
    return Workflow(
        states=[
            ("draft", "Draft"),
            ("review", "In review"),
            ("done", "Done"),
            ("dropped", "Dropped"),
        ],
        initial="draft",
        transitions=[
            Transition(
                frozenset({"draft"}), "review", "Submit", requires=("summary",), allowed=anyone
            ),
            Transition(
                frozenset({"review"}),
                "done",
                "Finish",
                requires=("approver",),
                guards=(needs_approval,),
                effects=effects,
            ),
            Transition(frozenset({"draft", "review"}), "dropped", "Drop", allowed=owner_only),
            Transition(frozenset({"review"}), "draft", "Back to draft", allowed=staff_only),
        ],
    )


def test_labels_and_final_states():
    wf = make_workflow()
    assert wf.state_names == ["draft", "review", "done", "dropped"]
    assert wf.label("review") == "In review"
    assert wf.label("mystery") == "mystery"
    assert wf.is_final("done")
    assert wf.is_final("dropped")
    assert not wf.is_final("draft")


def test_definition_must_name_real_states():
    with pytest.raises(AssertionError):
        Workflow(states=[("a", "A")], initial="b")
    with pytest.raises(AssertionError):
        Workflow(
            states=[("a", "A")], initial="a", transitions=[Transition(frozenset({"a"}), "z", "Z")]
        )
    with pytest.raises(AssertionError):
        Workflow(
            states=[("a", "A")], initial="a", transitions=[Transition(frozenset({"q"}), "a", "A")]
        )


def test_unknown_state_lists_the_states():
    ticket = Ticket(summary="x")
    with pytest.raises(ValidationError) as error:
        make_workflow().apply(ticket, "archived", STAFF)
    message = error.value.message_dict["state"][0]
    assert "'archived' is not a state" in message
    assert "draft, review, done, dropped" in message
    assert ticket.state == "draft"


def test_disallowed_transition_lists_the_allowed_ones():
    ticket = Ticket(summary="x")
    with pytest.raises(ValidationError) as error:
        make_workflow().apply(ticket, "done", OWNER)
    message = error.value.message_dict["state"][0]
    assert "Cannot move from draft to done" in message
    assert message.endswith("Allowed next states: dropped, review.")
    assert ticket.state == "draft"


def test_no_way_out_says_none():
    with pytest.raises(ValidationError) as error:
        make_workflow().apply(Ticket(state="done"), "draft", STAFF)
    assert error.value.message_dict["state"][0].endswith("Allowed next states: none.")


def test_requires_names_each_missing_field():
    wf = make_workflow()
    for empty in ("", "   ", None):
        ticket = Ticket(summary=empty)
        with pytest.raises(ValidationError) as error:
            wf.apply(ticket, "review", OWNER)
        assert list(error.value.message_dict) == ["summary"]
        assert "Required to move to review" in error.value.message_dict["summary"][0]
        assert ticket.state == "draft"
    ticket = Ticket(summary="Printer")
    wf.apply(ticket, "review", OWNER)
    assert ticket.state == "review"


def test_requires_and_guards_are_reported_together_and_block():
    ticket = Ticket(state="review", summary="x")
    with pytest.raises(ValidationError) as error:
        make_workflow().apply(ticket, "done", STAFF)
    assert set(error.value.message_dict) == {"approver", "state"}
    assert error.value.message_dict["state"] == ["Wait for the approval."]
    assert ticket.state == "review"
    assert ticket.stamped is False


def test_guard_alone_blocks():
    ticket = Ticket(state="review", summary="x", approver="boss")
    with pytest.raises(ValidationError) as error:
        make_workflow().apply(ticket, "done", STAFF)
    assert error.value.message_dict == {"state": ["Wait for the approval."]}
    assert ticket.stamped is False


def test_effects_run_once_the_checks_pass():
    calls = []

    def record_call(ticket, user):
        calls.append((ticket.state, user))

    ticket = Ticket(state="review", summary="x", approver="boss", approved=True)
    transition = make_workflow(effects=(stamp, record_call)).apply(ticket, "done", STAFF)
    assert transition.label == "Finish"
    assert ticket.state == "done"
    assert ticket.stamped is True
    # effects see the record already in its new state, with the acting user
    assert calls == [("done", STAFF)]


def test_permission_filter():
    wf = make_workflow()
    review = Ticket(state="review", summary="x")
    assert wf.targets(wf.available(review, STAFF)) == ["done", "draft"]
    assert wf.targets(wf.available(review, OWNER)) == ["dropped"]
    assert wf.targets(wf.available(review, OTHER)) == []
    # the platform itself (no user) counts as staff
    assert wf.targets(wf.available(review, None)) == ["done", "draft"]
    with pytest.raises(ValidationError):
        wf.apply(review, "dropped", OTHER)
    with pytest.raises(ValidationError):
        wf.apply(review, "draft", OWNER)
    wf.apply(review, "dropped", OWNER)
    assert review.state == "dropped"


def test_transitions_from_a_state():
    wf = make_workflow()
    assert sorted(t.label for t in wf.transitions_from("draft")) == ["Drop", "Submit"]
    assert wf.transitions_from("done") == []
