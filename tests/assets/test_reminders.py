"""Reminders before a contract renews or expires: to the owner, through the notification
outbox, only inside the notice window, and once per contract and date."""

import pytest
from django.conf import settings

from itsm.core.models import Notification
from practices.assets import services, tasks
from practices.assets.models import ContractReminder

from .helpers import days

pytestmark = pytest.mark.django_db


@pytest.fixture
def make_contract(agent, dell, manager):
    def make(reference="C-1", **fields):
        data = {
            "reference": reference,
            "kind": "support",
            "supplier": dell,
            "start_date": days(-300),
            "end_date": days(400),
            "owner": manager,
            **fields,
        }
        return services.create_contract(agent, data)

    return make


def run(capture):
    with capture(execute=True):
        return services.send_contract_reminders()


def test_the_owner_is_reminded_once_inside_the_notice_window(
    make_contract, manager, mailoutbox, django_capture_on_commit_callbacks
):
    contract = make_contract(renewal_date=days(20))
    assert run(django_capture_on_commit_callbacks) == 1
    assert run(django_capture_on_commit_callbacks) == 0
    [notification] = Notification.objects.all()
    assert notification.recipient == manager
    assert notification.record == contract
    assert "renewal in 20 days" in notification.subject
    assert notification.status == Notification.Status.SENT
    [mail] = mailoutbox
    assert mail.to == ["manager@example.com"]
    assert "C-1" in mail.subject
    [reminder] = ContractReminder.objects.all()
    assert (reminder.event, reminder.due_date, reminder.recipient) == ("renewal", days(20), manager)


@pytest.mark.parametrize(
    ("fields", "sent"),
    [
        ({"renewal_date": days(31)}, 0),
        ({"renewal_date": days(30)}, 1),
        ({"renewal_date": days(0)}, 1),
        ({"renewal_date": days(-1)}, 0),
        ({"renewal_date": days(50), "notice_period_days": 60}, 1),
        ({"renewal_date": days(10), "notice_period_days": 5}, 0),
        ({"end_date": days(15)}, 1),
        ({"end_date": days(45)}, 0),
    ],
)
def test_only_inside_the_notice_window(
    make_contract, fields, sent, django_capture_on_commit_callbacks
):
    make_contract(**fields)
    assert run(django_capture_on_commit_callbacks) == sent
    assert Notification.objects.count() == sent


def test_renewal_and_expiry_are_each_reminded_once(
    make_contract, django_capture_on_commit_callbacks
):
    make_contract(renewal_date=days(5), end_date=days(25))
    assert run(django_capture_on_commit_callbacks) == 2
    assert run(django_capture_on_commit_callbacks) == 0
    assert sorted(ContractReminder.objects.values_list("event", flat=True)) == [
        "expiry",
        "renewal",
    ]


def test_renewing_on_the_day_it_ends_is_one_reminder(
    make_contract, django_capture_on_commit_callbacks
):
    make_contract(renewal_date=days(10), end_date=days(10))
    assert run(django_capture_on_commit_callbacks) == 1


def test_a_new_renewal_date_is_reminded_again(
    make_contract, agent, django_capture_on_commit_callbacks
):
    contract = make_contract(renewal_date=days(10))
    assert run(django_capture_on_commit_callbacks) == 1
    services.update_contract(contract, agent, {"renewal_date": days(12)})
    assert run(django_capture_on_commit_callbacks) == 1
    assert run(django_capture_on_commit_callbacks) == 0
    assert Notification.objects.count() == 2


def test_nobody_to_remind_sends_nothing(make_contract, django_capture_on_commit_callbacks):
    make_contract(renewal_date=days(10), owner=None)
    assert run(django_capture_on_commit_callbacks) == 0
    assert not ContractReminder.objects.exists()


def test_only_the_owner_is_reminded(
    make_contract, agent, manager, mailoutbox, django_capture_on_commit_callbacks
):
    make_contract("C-1", renewal_date=days(3))
    make_contract("C-2", renewal_date=days(4), owner=agent)
    run(django_capture_on_commit_callbacks)
    assert sorted(m.to[0] for m in mailoutbox) == ["agent@example.com", "manager@example.com"]
    assert {n.recipient for n in Notification.objects.all()} == {agent, manager}


def test_the_task_is_scheduled_hourly_and_reminds_once(
    make_contract, django_capture_on_commit_callbacks
):
    entry = settings.CELERY_BEAT_SCHEDULE["assets-contract-reminders"]
    assert entry["task"] == "practices.assets.tasks.send_contract_reminders"
    # Hourly, so a reminder goes out within the hour its window opens; running it again
    # sends nothing more.
    assert entry["schedule"] == 3600.0
    make_contract(renewal_date=days(7))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.send_contract_reminders.delay().get() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.send_contract_reminders.delay().get() == 0


def test_the_sweep_costs_the_same_for_many_contracts(
    make_contract, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    for n in range(6):
        make_contract(f"C-{n}", renewal_date=days(100 + n))
    with django_assert_max_num_queries(2):
        assert services.send_contract_reminders() == 0


def test_a_contract_with_dates_out_of_range_never_stops_the_run(
    make_contract, agent, manager, django_capture_on_commit_callbacks
):
    from datetime import date

    from practices.assets.models import Contract
    from tests.factories import page, web

    bad = make_contract("C-0", renewal_date=days(10))
    good = make_contract("C-1", renewal_date=days(10))
    # A row saved before dates were checked (or written around the services).
    Contract.objects.filter(pk=bad.pk).update(renewal_date=date(1, 1, 1))
    assert run(django_capture_on_commit_callbacks) == 1
    assert list(ContractReminder.objects.values_list("contract", flat=True)) == [good.pk]
    assert web(agent).get(f"/assets/contracts/{bad.pk}/").status_code == 200
    assert "C-0" in page(web(agent).get("/assets/contracts/"))


def test_one_failing_contract_does_not_stop_the_others(
    make_contract, monkeypatch, django_capture_on_commit_callbacks
):
    first = make_contract("C-0", renewal_date=days(10))
    make_contract("C-1", renewal_date=days(10))
    real = services.due_events

    def broken(contract, today):
        if contract.pk == first.pk:
            raise OverflowError("date value out of range")
        return real(contract, today)

    monkeypatch.setattr(services, "due_events", broken)
    assert run(django_capture_on_commit_callbacks) == 1
