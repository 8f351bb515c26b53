"""Recompute the audit log's chain: every sequence number present from 1 to the chain
head's, each event's digest and hash what its columns give, each event linked to the one
before it."""

from dataclasses import dataclass

from .models import GENESIS, AuditEvent, ChainHead


@dataclass
class Verification:
    checked: int
    broken: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken is None


def verify(chunk_size: int = 2000) -> Verification:
    expected, previous, checked = 1, GENESIS, 0
    events = AuditEvent.objects.order_by("sequence").iterator(chunk_size=chunk_size)
    for event in events:
        if event.sequence != expected:
            return Verification(checked, expected, f"event #{expected} is missing")
        if event.prev_hash != previous:
            return Verification(checked, expected, "it does not follow the event before it")
        if event.rewritten_at is None and event.personal_digest != (
            event.compute_personal_digest()
        ):
            return Verification(checked, expected, "its actor, target or values were changed")
        if event.hash != event.compute_hash():
            return Verification(checked, expected, "its hash does not match its contents")
        previous, expected, checked = event.hash, expected + 1, checked + 1
    head = ChainHead.objects.filter(pk=1).first()
    if head is not None and head.sequence >= expected:
        return Verification(checked, expected, f"event #{expected} is missing (the newest)")
    if head is not None and head.sequence == expected - 1 and head.hash != previous:
        return Verification(checked, expected - 1, "the chain head does not match it")
    return Verification(checked)
