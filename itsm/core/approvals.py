"""Approvals, the same for every record type that asks for them (a service request's
levels, a change's authorisation): one approver's decision on one level of one record.

A practice's concrete model adds the foreign key to its record (``request``, ``change``)
and whatever its own levels need."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Decision(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    SKIPPED = "skipped", "Not needed"


class AbstractApproval(models.Model):
    Decision = Decision

    level = models.PositiveIntegerField()
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="%(app_label)s_approvals"
    )
    decision = models.CharField(max_length=10, choices=Decision.choices, default=Decision.PENDING)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_pending(self) -> bool:
        return self.decision == Decision.PENDING
