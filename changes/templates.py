"""Standard change templates' lifecycle: any staff member proposes one (with its tasks);
a change manager reviews it (activates it, or sends it back with notes) and retires it.
Only active templates are offered when raising a change."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import ChangeTemplate, TemplateTask

Status = ChangeTemplate.Status


def is_change_manager(user) -> bool:
    return bool(user.is_authenticated and user.has_perm("changes.authorise_change"))


def _require_manager(actor) -> None:
    if not is_change_manager(actor):
        raise PermissionDenied


def _check(template: ChangeTemplate) -> None:
    try:
        template.clean()
    except ValidationError as error:
        raise ValidationError(error.message_dict) from None


def _set_tasks(template: ChangeTemplate, tasks) -> None:
    """Replace the template's tasks (``[{"stage", "title", "team"}]``)."""
    if tasks is None:
        return
    template.tasks.all().delete()
    TemplateTask.objects.bulk_create(
        TemplateTask(template=template, **{k: task[k] for k in ("stage", "title", "team")})
        for task in tasks
    )


@transaction.atomic
def propose(actor, data: dict) -> ChangeTemplate:
    if not actor.is_agent:
        raise PermissionDenied
    data = dict(data)
    tasks = data.pop("tasks", None)
    template = ChangeTemplate(**data, status=Status.PROPOSED, proposed_by=actor)
    _check(template)
    template.save()
    _set_tasks(template, tasks)
    return template


@transaction.atomic
def edit(template: ChangeTemplate, actor, data: dict) -> ChangeTemplate:
    """A proposed template is edited by its proposer or a change manager; an active one
    only by a change manager (it is pre-authorised work)."""
    template = ChangeTemplate.objects.select_for_update().get(pk=template.pk)
    if not (
        is_change_manager(actor)
        or (template.status == Status.PROPOSED and template.proposed_by_id == actor.pk)
    ):
        raise PermissionDenied
    if template.status == Status.RETIRED:
        raise ValidationError({"status": _("A retired template is not edited.")})
    data = dict(data)
    tasks = data.pop("tasks", None)
    for name, value in data.items():
        setattr(template, name, value)
    _check(template)
    template.save()
    _set_tasks(template, tasks)
    return template


@transaction.atomic
def review(template: ChangeTemplate, actor, approve: bool, notes: str = "") -> ChangeTemplate:
    _require_manager(actor)
    template = ChangeTemplate.objects.select_for_update().get(pk=template.pk)
    if template.status != Status.PROPOSED:
        raise ValidationError(
            {
                "status": gettext("Only a proposed template is reviewed; this is %(status)s.")
                % {"status": template.get_status_display().lower()}
            }
        )
    notes = (notes or "").strip()
    if not approve and not notes:
        raise ValidationError({"notes": _("Say what the proposer should change.")})
    template.reviewed_by = actor
    template.reviewed_at = timezone.now()
    template.review_notes = notes
    if approve:
        template.status = Status.ACTIVE
    template.save()
    return template


@transaction.atomic
def retire(template: ChangeTemplate, actor) -> ChangeTemplate:
    _require_manager(actor)
    template = ChangeTemplate.objects.select_for_update().get(pk=template.pk)
    template.status = Status.RETIRED
    template.save(update_fields=["status"])
    return template
