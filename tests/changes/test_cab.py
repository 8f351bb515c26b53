"""CAB meetings: the agenda built from its filter (and by hand), the workbench deciding an
item with a mandatory comment through the approval engine, deferring, the minutes sent
once, who may do what, and the query counts of the workbench and the API."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from changes import cab
from changes.models import AgendaItem, ApprovalLevel, ApprovalPolicy, ChangeApproval
from itsm.accounts.models import Role, Team
from itsm.core.models import Notification
from tests.changes.test_approvals import journal, to_authorise
from tests.conftest import make_user
from tests.contracts.base import hold_baselines


@pytest.fixture
def board(db, change_manager):
    team = Team.objects.create(name="CAB")
    team.members.add(change_manager, make_user("dora", Role.AGENT))
    return team


@pytest.fixture
def cab_policy(normal_model, board):
    policy = ApprovalPolicy.objects.create(name="Normal via CAB")
    ApprovalLevel.objects.create(policy=policy, order=1, kind="cab", team=board, mode="all")
    normal_model.approval_policy = policy
    normal_model.save()
    return policy


@pytest.fixture
def waiting(make_change, cab_policy, agent):
    """Three changes at the CAB: in four days, in five days, in thirty days."""

    def at(days):
        start = (timezone.now() + timedelta(days=days)).replace(microsecond=0)
        change = make_change(planned_start=start, planned_end=start + timedelta(hours=1))
        return to_authorise(change, agent)

    return [at(4), at(5), at(30)]


@pytest.fixture
def meeting(change_manager, board):
    start = timezone.now() + timedelta(days=1)
    return cab.create_meeting(
        change_manager,
        {
            "title": "Weekly CAB",
            "starts_at": start,
            "ends_at": start + timedelta(hours=1),
            "members": list(board.members.all()),
            "agenda_from": (start + timedelta(days=2)).date(),
            "agenda_to": (start + timedelta(days=10)).date(),
        },
    )


def browser(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
class TestAgenda:
    def test_built_from_the_filter_in_planned_order(self, waiting, meeting, change_manager):
        added = cab.build_agenda(meeting, change_manager)
        assert [i.change for i in added] == waiting[:2]
        assert [i.order for i in added] == [1, 2]
        assert cab.build_agenda(meeting, change_manager) == []  # not twice
        assert journal(waiting[0])[-1].startswith("On the agenda of Weekly CAB")
        waiting[0].refresh_from_db()
        assert waiting[0].cab_date == timezone.localtime(meeting.starts_at).date()

    def test_added_removed_and_reordered_by_hand(self, waiting, meeting, change_manager):
        _, second = cab.build_agenda(meeting, change_manager)
        late = cab.add_item(meeting, waiting[2], change_manager)
        with pytest.raises(ValidationError):
            cab.add_item(meeting, waiting[2], change_manager)
        cab.move_item(late, change_manager, -1)
        assert list(meeting.items.values_list("change", flat=True)) == [
            waiting[0].pk,
            waiting[2].pk,
            waiting[1].pk,
        ]
        cab.remove_item(second, change_manager)
        assert meeting.items.count() == 2

    def test_only_change_managers_plan(self, waiting, meeting, agent):
        with pytest.raises(PermissionDenied):
            cab.build_agenda(meeting, agent)
        with pytest.raises(PermissionDenied):
            cab.create_meeting(agent, {"title": "Mine", "starts_at": timezone.now()})


@pytest.mark.django_db
class TestWorkbench:
    def test_approving_an_item_needs_a_comment_and_decides_the_cab_level(
        self, waiting, meeting, change_manager
    ):
        cab.build_agenda(meeting, change_manager)
        item = meeting.items.first()
        client = browser(change_manager)
        url = f"/changes/cab/{meeting.pk}/items/{item.pk}/decide/"
        response = client.post(url, {"decision": "approve", "comment": " "})
        assert response.status_code == 400
        assert "needs a comment" in response.content.decode()
        item.refresh_from_db()
        assert item.decision == "pending"
        response = client.post(url, {"decision": "approve", "comment": "Go, with a DBA on call"})
        assert response.status_code == 302
        item.refresh_from_db()
        assert (item.decision, item.decided_by) == ("approved", change_manager)
        change = item.change
        change.refresh_from_db()
        assert (change.state, change.approval_state) == ("scheduled", "approved")
        rows = ChangeApproval.objects.filter(change=change, level=1)
        assert {(r.decision, r.decided_by_id, r.cab_meeting_id) for r in rows} == {
            ("approved", change_manager.pk, meeting.pk)
        }
        assert any("Weekly CAB: approved: Go, with a DBA on call" in b for b in journal(change))
        meeting.refresh_from_db()
        assert f"{change.number}" in meeting.minutes and "Approved by" in meeting.minutes

    def test_rejecting_an_item_cancels_the_change(self, waiting, meeting, change_manager):
        cab.build_agenda(meeting, change_manager)
        item = meeting.items.first()
        cab.decide_item(item, change_manager, "reject", "Clashes with the audit")
        change = item.change
        change.refresh_from_db()
        assert (change.state, change.closure_code) == ("cancelled", "rejected")

    def test_deferring_leaves_the_change_for_the_next_meeting(
        self, waiting, meeting, change_manager, board
    ):
        cab.build_agenda(meeting, change_manager)
        item = meeting.items.first()
        cab.decide_item(item, change_manager, "defer")
        change = item.change
        change.refresh_from_db()
        assert (change.state, change.approval_state) == ("authorise", "requested")
        assert ChangeApproval.objects.filter(change=change, decision="pending").count() == 2

    def test_an_individual_cab_member_decides_at_the_meeting_only(self, waiting, change_manager):
        from changes import approvals

        approval = ChangeApproval.objects.filter(change=waiting[0], approver=change_manager).get()
        with pytest.raises(ValidationError) as error:
            approvals.decide(approval, change_manager, True, "ok")
        assert "CAB" in str(error.value)

    def test_outsiders_may_not_decide(self, waiting, meeting, change_manager, agent2, alice):
        cab.build_agenda(meeting, change_manager)
        item = meeting.items.first()
        with pytest.raises(PermissionDenied):
            cab.decide_item(item, agent2, "approve", "ok")
        url = f"/changes/cab/{meeting.pk}/items/{item.pk}/decide/"
        assert browser(agent2).post(url, {"decision": "approve", "comment": "x"}).status_code == 403
        assert browser(alice).get(f"/changes/cab/{meeting.pk}/").status_code == 403

    def test_the_page_goes_item_by_item_with_a_timer(self, waiting, meeting, change_manager):
        first, second = cab.build_agenda(meeting, change_manager)
        client = browser(change_manager)
        page = client.get(f"/changes/cab/{meeting.pk}/").content.decode()
        assert first.change.number in page and f"?item={second.pk}" in page
        assert 'accesskey="n"' in page and "Start the timer" in page
        client.post(f"/changes/cab/{meeting.pk}/items/{first.pk}/start/")
        first.refresh_from_db()
        assert first.started_at is not None
        page = client.get(f"/changes/cab/{meeting.pk}/?item={first.pk}").content.decode()
        assert "data-sla-due" in page

    def test_minutes_are_sent_once(self, waiting, meeting, change_manager, board):
        cab.build_agenda(meeting, change_manager)
        cab.decide_item(meeting.items.first(), change_manager, "approve", "Fine")
        cab.send_minutes(meeting, change_manager)
        sent = Notification.objects.filter(subject__startswith="Minutes: Weekly CAB")
        assert sent.count() == board.members.count()
        with pytest.raises(ValidationError):
            cab.send_minutes(meeting, change_manager)
        assert sent.count() == board.members.count()
        meeting.refresh_from_db()
        assert meeting.status == "completed"


@pytest.mark.django_db
class TestAPIAndCounts:
    def test_the_api_plans_builds_and_decides(self, waiting, change_manager, agent, api_as, board):
        start = timezone.now() + timedelta(days=1)
        data = {
            "title": "Extra CAB",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat(),
            "members": [u.username for u in board.members.all()],
            "agenda_from": str((start + timedelta(days=2)).date()),
            "agenda_to": str((start + timedelta(days=10)).date()),
        }
        assert api_as(agent).post("/api/v1/cab-meetings/", data, format="json").status_code == 403
        response = api_as(change_manager).post("/api/v1/cab-meetings/", data, format="json")
        assert response.status_code == 201, response.content
        pk = response.json()["id"]
        response = api_as(change_manager).post(f"/api/v1/cab-meetings/{pk}/build-agenda/")
        items = response.json()["items"]
        assert [i["change"] for i in items] == [c.number for c in waiting[:2]]
        url = f"/api/v1/cab-meetings/{pk}/items/{items[0]['id']}/decide/"
        response = api_as(change_manager).post(url, {"decision": "reject"}, format="json")
        assert response.status_code == 400 and "comment" in response.json()
        response = api_as(change_manager).post(
            url, {"decision": "approve", "comment": "ok"}, format="json"
        )
        assert response.status_code == 200 and response.json()["decision"] == "approved"
        assert AgendaItem.objects.get(pk=items[0]["id"]).decided_by == change_manager

    def test_query_counts(self, make_change, cab_policy, agent, meeting, change_manager, api_as):
        client = browser(change_manager)

        def counted(url, get):
            with CaptureQueriesContext(connection) as captured:
                assert get(url).status_code == 200
            return len(captured)

        def add(n):
            start = timezone.now() + timedelta(days=4)
            for _ in range(n):
                change = make_change(planned_start=start, planned_end=start + timedelta(hours=1))
                to_authorise(change, agent)
            cab.build_agenda(meeting, change_manager)

        add(1)
        page = f"/changes/cab/{meeting.pk}/"
        client.get(page)
        one = counted(page, client.get)
        api_one = counted(f"/api/v1/cab-meetings/{meeting.pk}/", api_as(change_manager).get)
        add(3)
        assert counted(page, client.get) == one
        assert counted(f"/api/v1/cab-meetings/{meeting.pk}/", api_as(change_manager).get) == api_one
        lst = counted("/api/v1/cab-meetings/", api_as(change_manager).get)
        hold_baselines("changes.CabMeeting", {"workbench": one, "detail": api_one, "list": lst})
