"""Outbound mail is marked automatic, and a record title with a line break in it does not
stop that record's notifications (the subject is one header line)."""

import pytest

from itsm.core import services as core
from itsm.core.models import Notification
from tests import factories

pytestmark = pytest.mark.django_db


def test_mail_is_marked_auto_generated(mailoutbox, alice, agent):
    incident = factories.incident(alice, actor=agent)
    rows = core.notify([alice], "Your incident", "We are on it.", incident)
    mailoutbox.clear()
    assert core.deliver([n.pk for n in rows]) == 1
    sent = mailoutbox[0].message()
    assert sent["Auto-Submitted"] == "auto-generated"
    assert sent["X-Auto-Response-Suppress"] == "All"


def test_a_title_with_line_breaks_is_one_subject_line_and_is_sent(mailoutbox, alice, agent):
    incident = factories.incident(alice, actor=agent, title="Printer\r\nBcc: evil@example.com")
    rows = core.notify([alice], f"{incident.number} {incident.title}", "Body", incident)
    assert rows[0].subject == f"{incident.number} Printer Bcc: evil@example.com"
    mailoutbox.clear()
    assert core.deliver([rows[0].pk]) == 1
    message = mailoutbox[0]
    assert message.subject == f"{incident.number} Printer Bcc: evil@example.com"
    assert message.to == ["alice@example.com"] and not message.bcc
    assert Notification.objects.get(pk=rows[0].pk).status == Notification.Status.SENT


def test_a_row_queued_with_a_line_break_is_still_delivered(mailoutbox, alice):
    row = Notification.objects.create(recipient=alice, subject="Line one\nline two", body="b")
    assert core.deliver([row.pk]) == 1
    assert mailoutbox[0].subject == "Line one line two"
    row.refresh_from_db()
    assert row.status == Notification.Status.SENT and row.attempts == 1
