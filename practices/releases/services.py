"""Release operations: planning a release, changing it and moving it through its
lifecycle; comments and files. API views, screens and the demo call these; each write is
one transaction (the kernel's write path)."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from itsm.core import services as core
from itsm.core import writes

from .models import Release
from .workflows import ReleaseState

FIELDS = (
    "title",
    "description",
    "release_version",
    "release_type",
    "release_manager",
    "assignment_group",
    "assigned_to",
    "configuration_items",
    "changes",
    "release_notes",
    "planned_start",
    "planned_end",
)
M2M = ("configuration_items", "changes")


def _clean(data: dict, actor) -> dict:
    for name in ("title", "release_version"):
        if isinstance(data.get(name), str):
            data[name] = data[name].strip()
    return data


def _validate(release: Release, changed: set | None) -> None:
    def touched(*names) -> bool:
        return changed is None or any(name in changed for name in names)

    errors: dict = {}
    if touched("title") and not release.title:
        errors["title"] = gettext("Give the release a short title.")
    if (
        touched("planned_start", "planned_end")
        and release.planned_start
        and release.planned_end
        and release.planned_end <= release.planned_start
    ):
        errors["planned_end"] = gettext("The planned end is after the planned start.")
    if (
        touched("actual_start", "actual_end")
        and release.actual_start
        and release.actual_end
        and release.actual_end < release.actual_start
    ):
        errors["actual_end"] = gettext("The actual end is after the actual start.")
    if touched("release_manager") and release.release_manager_id:
        if not release.release_manager.is_agent:
            errors["release_manager"] = gettext("%(person)s does not work in IT.") % {
                "person": release.release_manager
            }
    writes.check_assignment(release, changed, errors)
    writes.refuse(errors)


SPEC = writes.WriteSpec(
    model=Release,
    create=writes.Access(staff=FIELDS),
    update=writes.Access(
        staff=(*FIELDS, "state", "actual_start", "actual_end", "closure_notes"),
    ),
    m2m=M2M,
    quiet=("closed_at",),
    refused=_("This field cannot be changed."),
    clean=_clean,
    initial=lambda actor, data, options: {"state": ReleaseState.PLANNING},
    derive=lambda release, actor, step: writes.unassign_outside_group(release, actor, step),
    validate=_validate,
    guard=writes.reject_end_users,
    created_data=lambda release: {"version": release.release_version},
    on_assign=writes.assigned_notice(_("release")),
)


def _require_staff(actor) -> None:
    if not writes.is_staff(actor):
        raise PermissionDenied


def open_release(actor, data: dict) -> Release:
    _require_staff(actor)
    return writes.open(SPEC, actor, data)


def update_release(release: Release, actor, data: dict, expected_version=None) -> Release:
    return writes.change(SPEC, release, actor, data, expected_version)


def comment(release, actor, body: str, internal: bool = False):
    _require_staff(actor)
    return core.add_comment(release, actor, body, internal)


def attach(release, actor, uploaded_file, internal: bool = False):
    _require_staff(actor)
    return core.add_attachment(release, actor, uploaded_file, internal)
