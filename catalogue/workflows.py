"""Lifecycles of service requests and their fulfilment tasks. The platform moves requests
through approval and fulfilment (``catalogue.services``); people cancel or close."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from itsm.core.workflow import TaskState, Transition, Workflow


class RequestState(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    IN_FULFILMENT = "in_fulfilment", _("In fulfilment")
    FULFILLED = "fulfilled", _("Fulfilled")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


R = RequestState


def platform_only(record, user) -> bool:
    return user is None


def requester_or_staff(request, user) -> bool:
    return (
        user is None or user.is_agent or user.pk in (request.requester_id, request.requested_for_id)
    )


def stamp_closed(record, user):
    record.closed_at = timezone.now()


request_workflow = Workflow(
    states=RequestState.choices,
    initial=R.SUBMITTED,
    open_states=frozenset({R.SUBMITTED, R.AWAITING_APPROVAL, R.APPROVED, R.IN_FULFILMENT}),
    transitions=[
        Transition(
            frozenset({R.SUBMITTED}),
            R.AWAITING_APPROVAL,
            _("Ask for approval"),
            allowed=platform_only,
        ),
        Transition(
            frozenset({R.SUBMITTED, R.AWAITING_APPROVAL}),
            R.APPROVED,
            _("Approve"),
            allowed=platform_only,
        ),
        Transition(
            frozenset({R.AWAITING_APPROVAL}), R.REJECTED, _("Reject"), allowed=platform_only
        ),
        Transition(frozenset({R.APPROVED}), R.IN_FULFILMENT, _("Fulfil"), allowed=platform_only),
        Transition(
            frozenset({R.APPROVED, R.IN_FULFILMENT}),
            R.FULFILLED,
            _("Fulfilled"),
            allowed=platform_only,
        ),
        Transition(
            frozenset({R.FULFILLED}),
            R.CLOSED,
            _("Close"),
            allowed=requester_or_staff,
            effects=(stamp_closed,),
        ),
        Transition(
            frozenset({R.SUBMITTED, R.AWAITING_APPROVAL, R.APPROVED}),
            R.CANCELLED,
            _("Cancel"),
            allowed=requester_or_staff,
            effects=(stamp_closed,),
            style="danger",
        ),
        Transition(
            frozenset({R.IN_FULFILMENT}),
            R.CANCELLED,
            _("Cancel"),
            effects=(stamp_closed,),
            style="danger",
        ),
    ],
)

T = TaskState
task_workflow = Workflow(
    states=TaskState.choices,
    initial=T.OPEN,
    open_states=frozenset({T.OPEN, T.IN_PROGRESS}),
    transitions=[
        Transition(frozenset({T.OPEN}), T.IN_PROGRESS, _("Start work"), style="primary"),
        Transition(
            frozenset({T.OPEN, T.IN_PROGRESS}),
            T.CLOSED,
            _("Close"),
            effects=(stamp_closed,),
            style="primary",
        ),
        Transition(
            frozenset({T.OPEN, T.IN_PROGRESS}),
            T.CANCELLED,
            _("Cancel"),
            effects=(stamp_closed,),
            style="danger",
        ),
    ],
)
