"""Approvals, the same for every record type that asks for them (a service request's
levels, a change's authorisation): the levels of a policy (``AbstractApprovalLevel``),
and one approver's decision on one level of one record (``AbstractApproval``).

A practice's concrete models add the foreign key to what they belong to (``item``,
``policy``; ``request``, ``change``) and whatever its own levels need."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

#: What a rejection without a reason is told, unless the practice says otherwise.
SAY_WHY = _("Say why.")


class Decision(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    SKIPPED = "skipped", _("Not needed")


class AbstractApprovalLevel(models.Model):
    """One level of a practice's approval policy, decided in ``order``. A concrete level
    adds what it belongs to (an item, a policy), its kinds (``Kind``) and which of them a
    team approves at (``TEAM_KINDS``: those need a team, any other takes none), and
    whatever else its practice asks (a change's mode, risk threshold, deadline)."""

    #: The kinds a team approves at (they need one; the others take none).
    TEAM_KINDS: frozenset = frozenset()

    order = models.PositiveIntegerField(default=1, verbose_name=_("order"))
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Who approves, at the levels a team approves."),
        verbose_name=_("team"),
    )

    class Meta:
        abstract = True

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.kind in self.TEAM_KINDS and not self.team_id:
            raise ValidationError({"team": _("Name the team that approves.")})
        if self.kind not in self.TEAM_KINDS and self.team_id:
            raise ValidationError(
                {"team": _("No team approves at this level; leave the team empty.")}
            )

    @classmethod
    def problems(cls, levels: list) -> list:
        """What is wrong with a policy's levels taken together, each beside its row
        (``RowProblem``: ``index`` the level's position, ``field`` the field): a level
        given twice, a team where none approves, and a team nobody in could approve
        (no active member). One query."""
        from django.db.models import Count, Q

        from itsm.accounts.models import Team

        from .builders import RowProblem

        found = []
        seen_orders = set()
        for index, level in enumerate(levels):
            if level.order in seen_orders:
                found.append(
                    RowProblem(
                        gettext("Level %(order)s is given twice.") % {"order": level.order},
                        index=index,
                        field="order",
                    )
                )
            seen_orders.add(level.order)
            if level.team_id and level.kind not in cls.TEAM_KINDS:
                found.append(
                    RowProblem(
                        gettext("No team approves at this level; leave the team empty."),
                        index=index,
                        field="team",
                    )
                )
        team_ids = {lv.team_id for lv in levels if lv.team_id and lv.kind in cls.TEAM_KINDS}
        staffed = set(
            Team.objects.filter(pk__in=team_ids)
            .annotate(approvers=Count("members", filter=Q(members__is_active=True)))
            .filter(approvers__gt=0)
            .values_list("pk", flat=True)
        )
        for index, level in enumerate(levels):
            if level.team_id in team_ids and level.team_id not in staffed:
                found.append(
                    RowProblem(
                        gettext("Nobody in this team could approve (no members)."),
                        index=index,
                        field="team",
                    )
                )
        return found


class AbstractApproval(models.Model):
    Decision = Decision

    level = models.PositiveIntegerField(verbose_name=_("level"))
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="%(app_label)s_approvals",
        verbose_name=_("approver"),
    )
    decision = models.CharField(
        max_length=10,
        choices=Decision.choices,
        default=Decision.PENDING,
        verbose_name=_("decision"),
    )
    comment = models.TextField(blank=True, verbose_name=_("comment"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))

    class Meta:
        abstract = True

    @property
    def is_pending(self) -> bool:
        return self.decision == Decision.PENDING


class LevelledApprovals:
    """The engine of levelled approvals, shared by every practice that has them (a service
    request's levels, a change's authorisation): approvals are opened one level at a time
    (``open_level``); a level is decided by any one of its approvers or by all of them
    (``level_complete``); a rejection needs a reason; what is no longer needed is skipped.

    What a level *is* (who approves, what follows) stays the practice's own: this class
    only locks, checks, records and answers. ``take`` locks the record first and then the
    approval (always in that order): two approvers of one level deciding at the same moment
    queue on the record's row, and the second finds the level already decided (a clear
    answer, never a deadlock or a double decision)."""

    def __init__(self, model, record_field: str, reason: str = SAY_WHY):
        #: the concrete approval model (``catalogue.Approval``, ``changes.ChangeApproval``)
        self.model = model
        #: the name of its foreign key to the record (``request``, ``change``)
        self.record_field = record_field
        #: the message naming ``comment`` when a rejection comes without a reason
        self.reason = reason

    @property
    def record_model(self):
        return self.model._meta.get_field(self.record_field).related_model

    def of(self, record, level: int | None = None):
        """The approvals of ``record`` (of one ``level``)."""
        rows = self.model._default_manager.filter(**{self.record_field: record})
        return rows if level is None else rows.filter(level=level)

    def pending(self, record, level: int | None = None):
        return self.of(record, level).filter(decision=Decision.PENDING)

    def open_level(self, record, level: int, approvers, **fields) -> list:
        """One pending approval per approver (deduplicated, in the order given)."""
        seen, rows = set(), []
        for user in approvers:
            if user.pk not in seen:
                seen.add(user.pk)
                rows.append(
                    self.model(**{self.record_field: record}, level=level, approver=user, **fields)
                )
        return self.model._default_manager.bulk_create(rows)

    def take(self, approval, actor, approve: bool, comment: str = ""):
        """Lock the record and the approval for ``actor``'s decision and check it may be
        taken; returns ``(approval, record, comment)`` read under the locks. Raises
        ``PermissionDenied`` for anyone but the approver, a ``ValidationError`` naming
        ``decision`` for an approval already decided or no longer needed, and one naming
        ``comment`` for a rejection without a reason."""
        from django.core.exceptions import PermissionDenied, ValidationError

        record_id = getattr(approval, f"{self.record_field}_id")
        record = self.record_model._default_manager.select_for_update().get(pk=record_id)
        approval = self.model._default_manager.select_for_update().get(pk=approval.pk)
        setattr(approval, self.record_field, record)
        if actor is None or approval.approver_id != actor.pk:
            raise PermissionDenied
        self.check_open(approval, record)
        comment = (comment or "").strip()
        if not approve and not comment:
            raise ValidationError({"comment": self.reason})
        return approval, record, comment

    def check_open(self, approval, record) -> None:
        """Refuse, naming ``decision``, an approval that is no longer pending: decided
        already, decided by another approver of its level, or no longer needed."""
        from django.core.exceptions import ValidationError

        if approval.decision == Decision.SKIPPED:
            decided = (
                self.of(record, approval.level)
                .filter(decision__in=(Decision.APPROVED, Decision.REJECTED))
                .exclude(pk=approval.pk)
                .select_related("approver")
                .order_by("decided_at", "pk")
                .first()
            )
            if decided is not None:
                raise ValidationError(
                    {
                        "decision": gettext(
                            "Level %(level)s was already decided: %(decision)s by %(approver)s."
                        )
                        % {
                            "level": approval.level,
                            "decision": decided.get_decision_display().lower(),
                            "approver": decided.approver,
                        }
                    }
                )
            raise ValidationError(
                {
                    "decision": gettext(
                        "This approval is no longer needed: %(number)s is %(state)s."
                    )
                    % {"number": record.number, "state": record.get_state_display().lower()}
                }
            )
        if approval.decision != Decision.PENDING:
            raise ValidationError(
                {
                    "decision": gettext("This approval is already %(decision)s.")
                    % {"decision": str(Decision(approval.decision).label).lower()}
                }
            )

    def record(self, approval, approve: bool, comment: str = "", **fields) -> None:
        """Write the decision on the (locked) approval."""
        approval.decision = Decision.APPROVED if approve else Decision.REJECTED
        approval.comment = comment
        approval.decided_at = timezone.now()
        for name, value in fields.items():
            setattr(approval, name, value)
        approval.save(update_fields=["decision", "comment", "decided_at", *fields])

    def level_complete(self, record, level: int, every: bool) -> bool:
        """After an approval: is the level decided? Any one approver decides it, or, with
        ``every``, the last of them."""
        return not (every and self.pending(record, level).exists())

    def skip(self, record, level: int | None = None) -> int:
        """The pending approvals of ``record`` (of one ``level``) are no longer needed."""
        return self.pending(record, level).update(decision=Decision.SKIPPED)
