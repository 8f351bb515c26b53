"""A normal change from request through CAB approval to review, in a real browser: the
agent raises it with its plans and window, assesses it and asks for authorisation; the
change manager approves the first level on the change page; at the CAB meeting the board
approves it from the workbench with its comment, which schedules it; the agent implements
it and closes it with the outcome of the review."""

import re
from datetime import timedelta

import pytest

pytest.importorskip("playwright.sync_api")
from django.utils import timezone
from playwright.sync_api import expect

from changes import cab
from changes.models import ApprovalLevel, ApprovalPolicy, Change
from itsm.accounts.models import Team

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def policy(normal_model, change_manager, manager):
    board = Team.objects.create(name="Change Advisory Board", manager=change_manager)
    board.members.add(change_manager, manager)
    policy = ApprovalPolicy.objects.create(name="Normal change authorisation")
    ApprovalLevel.objects.create(policy=policy, order=1, kind="change_manager")
    ApprovalLevel.objects.create(policy=policy, order=2, kind="cab", team=board)
    normal_model.approval_policy = policy
    normal_model.save()
    return policy


def test_a_normal_change_from_request_through_cab_to_review(pages, policy, agent, change_manager):
    start = (timezone.localtime() + timedelta(days=5)).replace(
        hour=2, minute=0, second=0, microsecond=0
    )
    # The agent raises the change with its plans and planned window.
    desk = pages.signed_in("agent", width=1440, height=1000)
    desk.goto("/changes/new/")
    desk.get_by_label("Title").fill("Upgrade the core switches to 17.9")
    desk.get_by_label("Change model").select_option(label="Normal")
    desk.get_by_label("Planned start").fill(start.strftime("%Y-%m-%dT%H:%M"))
    desk.get_by_label("Planned end").fill((start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    desk.get_by_label("Implementation plan").fill("Upgrade the standby switch, fail over, repeat.")
    desk.get_by_label("Backout plan").fill("Boot the previous image from flash.")
    desk.get_by_label("Test plan").fill("Ping every VLAN gateway; check the routing table.")
    desk.get_by_role("button", name="Raise change").click()
    expect(desk.get_by_text(re.compile(r"CHG\d{7} raised\."))).to_be_visible()
    change = Change.objects.get()
    assert desk.url.endswith(f"/changes/{change.number}/")

    desk.get_by_role("button", name="Assess").click()
    expect(desk.get_by_text(f"{change.number} is now assess.")).to_be_visible()
    desk.get_by_role("button", name="Request authorisation").click()
    expect(desk.get_by_text(f"{change.number} is now authorise.")).to_be_visible()
    expect(desk.locator("#approvals")).to_contain_text("level 1")

    # The change manager approves the first level on the change page.
    manager = pages.signed_in("carol", width=1440, height=1000)
    manager.goto(f"/changes/{change.number}/")
    decision = manager.locator("#decide-approval")
    decision.get_by_label(re.compile("Your decision")).fill("Plans are complete.")
    decision.get_by_role("button", name="Approve").click()
    expect(manager.locator("#approvals")).to_contain_text("level 2")
    change.refresh_from_db()
    assert (change.state, change.approval_level) == ("authorise", 2)

    # At the CAB meeting the board approves it from the workbench, with its comment.
    meeting = cab.create_meeting(
        change_manager,
        {
            "title": "Weekly CAB",
            "starts_at": timezone.now() + timedelta(hours=1),
            "ends_at": timezone.now() + timedelta(hours=2),
            "agenda_from": timezone.localdate(),
            "agenda_to": timezone.localdate() + timedelta(days=14),
            "members": [change_manager],
        },
    )
    manager.goto(f"/changes/cab/{meeting.pk}/")
    manager.get_by_role("button", name="Add the changes waiting for the CAB").click()
    manager.locator("aside.side-col").get_by_role("link", name=change.number).click()
    board = manager.locator("#cab-decision")
    board.get_by_role("button", name="Approve").click()  # without the comment: refused
    expect(manager.get_by_text(re.compile("comment", re.I)).first).to_be_visible()
    change.refresh_from_db()
    assert change.state == "authorise"
    manager.locator("#cab-decision").get_by_label(re.compile("decision")).fill(
        "Approved: the rollback was rehearsed."
    )
    manager.locator("#cab-decision").get_by_role("button", name="Approve").click()
    expect(manager.locator(".minutes, #minutes").first).to_contain_text(change.number)
    change.refresh_from_db()
    assert (change.state, change.approval_state) == ("scheduled", "approved")

    # The agent implements it and closes it with the outcome of the review.
    desk.goto(f"/changes/{change.number}/")
    expect(desk.locator("#approvals")).to_contain_text("Approved: the rollback was rehearsed.")
    desk.get_by_role("button", name="Start implementation").click()
    expect(desk.get_by_text(f"{change.number} is now implement.")).to_be_visible()
    desk.get_by_role("button", name="Review").click()
    expect(desk.get_by_text(f"{change.number} is now review.")).to_be_visible()
    desk.get_by_role("button", name="Close…").click()
    dialog = desk.locator("dialog[open]")
    dialog.get_by_label("Outcome of the post-implementation review").select_option(
        label="Successful with issues"
    )
    dialog.get_by_label(re.compile("Review notes")).fill("One VLAN needed a second reload.")
    dialog.get_by_role("button", name="Close").click()
    expect(desk.get_by_text(f"{change.number} is now closed.")).to_be_visible()
    change.refresh_from_db()
    assert (change.state, change.closure_code) == ("closed", "successful_with_issues")
    assert change.actual_start and change.actual_end and change.closed_at
