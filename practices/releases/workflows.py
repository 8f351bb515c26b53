"""The release lifecycle (ITIL 4 release management):

planning → build → test → deploy → review → closed, or cancelled before review.

* **build** needs the release's version.
* **test** back to **build** when the tests send it back.
* **deploy** needs every change the release carries authorised (or pre-authorised), and
  none of them rejected or cancelled: the guard names the changes still waiting.
* **closed** after the review; **cancelled** needs a reason (closure notes).
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from itsm.core.workflow import Transition, Workflow


class ReleaseState(models.TextChoices):
    PLANNING = "planning", _("Planning")
    BUILD = "build", _("Build")
    TEST = "test", _("Test")
    DEPLOY = "deploy", _("Deploy")
    REVIEW = "review", _("Review")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


S = ReleaseState
OPEN = frozenset({S.PLANNING, S.BUILD, S.TEST, S.DEPLOY, S.REVIEW})


def version_given(release, user) -> str | None:
    if not (release.release_version or "").strip():
        return gettext("Give the release its version before it is built.")
    return None


def changes_authorised(release, user) -> str | None:
    """Every change the release carries is authorised (or needs no authorisation)."""
    if release.pk is None:
        return None
    from changes.approvals import authorisation_missing

    waiting = []
    for change in release.changes.select_related("model").order_by("number"):
        if change.state == "cancelled":
            waiting.append(gettext("%(number)s (cancelled)") % {"number": change.number})
        elif "authorise" in change.model.path and authorisation_missing(change):
            waiting.append(change.number)
    if waiting:
        return gettext("Its changes are not all authorised: %(changes)s.") % {
            "changes": ", ".join(waiting)
        }
    return None


def started(release, user):
    if release.actual_start is None:
        release.actual_start = timezone.now()


def deployed(release, user):
    if release.actual_end is None:
        release.actual_end = timezone.now()


def closed(release, user):
    release.closed_at = timezone.now()


release_workflow = Workflow(
    states=ReleaseState.choices,
    initial=S.PLANNING,
    open_states=OPEN,
    transitions=[
        Transition(
            frozenset({S.PLANNING}),
            S.BUILD,
            _("Start the build"),
            guards=(version_given,),
            effects=(started,),
            style="primary",
        ),
        Transition(frozenset({S.BUILD}), S.TEST, _("Test"), style="primary"),
        Transition(frozenset({S.TEST}), S.BUILD, _("Back to build")),
        Transition(
            frozenset({S.TEST}),
            S.DEPLOY,
            _("Deploy"),
            guards=(changes_authorised,),
            style="primary",
        ),
        Transition(
            frozenset({S.DEPLOY}), S.REVIEW, _("Review"), effects=(deployed,), style="primary"
        ),
        Transition(frozenset({S.REVIEW}), S.CLOSED, _("Close"), effects=(closed,), style="primary"),
        Transition(
            frozenset({S.PLANNING, S.BUILD, S.TEST, S.DEPLOY}),
            S.CANCELLED,
            _("Cancel"),
            requires=("closure_notes",),
            effects=(closed,),
            style="danger",
        ),
    ],
)
