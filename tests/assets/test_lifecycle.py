"""The asset lifecycle through the services: legal and illegal moves, the deploy rule, and
the history (who, when, old and new value) of every move and field change."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError

from itsm.core.models import JournalEntry
from itsm.core.services import StaleVersion
from practices.assets import services
from practices.assets.models import Asset

from .helpers import deployed, make_asset

pytestmark = pytest.mark.django_db


def history(asset):
    return list(JournalEntry.objects.for_record(asset).order_by("pk"))


def test_a_new_asset_is_ordered_and_its_creation_is_recorded(agent, dell):
    asset = make_asset(agent, "AT-1", vendor=dell, serial_number="SN1")
    assert asset.state == "ordered"
    [created] = history(asset)
    assert created.kind == "created"
    assert created.actor == agent


def test_the_whole_lifecycle_is_recorded_move_by_move(agent, alice, berlin):
    asset = make_asset(agent, "AT-1")
    path = ["received", "in_stock", "deployed", "in_repair", "in_stock", "retired", "disposed"]
    for target in path:
        changes = {"assigned_to": alice} if target == "deployed" else {}
        asset = services.move(asset, agent, target, changes)
        assert asset.state == target
    asset.refresh_from_db()
    assert asset.state == "disposed"
    moves = [e for e in history(asset) if e.kind == "state"]
    assert [(e.data["from"], e.data["to"]) for e in moves] == list(
        zip(["ordered", *path[:-1]], path, strict=True)
    )
    assert all(e.actor == agent and e.created_at for e in moves)
    [assignment] = [e for e in history(asset) if e.kind == "fields"]
    assert assignment.data == {"assigned_to": [None, "Alice"]}
    assert asset.version == len(path) + 1


@pytest.mark.parametrize(
    ("path", "target", "allowed"),
    [
        ([], "deployed", "received"),
        ([], "disposed", "received"),
        (["received", "in_stock"], "ordered", "deployed, in_repair, retired"),
        (["received", "in_stock", "retired"], "deployed", "disposed, in_stock"),
    ],
)
def test_an_illegal_move_names_the_allowed_next_states_and_changes_nothing(
    agent, berlin, path, target, allowed
):
    asset = make_asset(agent, "AT-1", location=berlin)
    for step in path:
        asset = services.move(asset, agent, step)
    before = (asset.state, asset.version, len(history(asset)))
    with pytest.raises(ValidationError) as error:
        services.move(asset, agent, target)
    assert error.value.message_dict["state"] == [
        f"Cannot move from {asset.state} to {target}. Allowed next states: {allowed}."
    ]
    asset.refresh_from_db()
    assert (asset.state, asset.version, len(history(asset))) == before


def test_a_disposed_asset_has_no_next_state(agent, berlin):
    asset = make_asset(agent, "AT-1", location=berlin)
    for step in ["received", "retired", "disposed"]:
        asset = services.move(asset, agent, step)
    with pytest.raises(ValidationError, match="Allowed next states: none"):
        services.move(asset, agent, "in_stock")
    with pytest.raises(ValidationError) as error:
        services.update_asset(asset, agent, {"notes": "found it again"})
    assert "state" in error.value.message_dict


def test_an_unknown_state_is_named(agent):
    asset = make_asset(agent, "AT-1")
    with pytest.raises(ValidationError, match="'lost' is not a state"):
        services.move(asset, agent, "lost")


def test_deploying_needs_an_assigned_user_or_a_location(agent, alice, berlin):
    asset = services.move(make_asset(agent, "AT-1"), agent, "received")
    with pytest.raises(ValidationError) as error:
        services.move(asset, agent, "deployed")
    assert "assigned_to" in error.value.message_dict
    assert Asset.objects.get(pk=asset.pk).state == "received"

    to_location = services.move(asset, agent, "deployed", {"location": berlin})
    assert to_location.state == "deployed"
    assert deployed(agent, "AT-2", user=alice).assigned_to == alice


def test_a_deployed_asset_cannot_lose_both_its_user_and_its_location(agent, alice):
    asset = deployed(agent, "AT-1", user=alice)
    with pytest.raises(ValidationError) as error:
        services.update_asset(asset, agent, {"assigned_to": None})
    assert "assigned_to" in error.value.message_dict
    assert Asset.objects.get(pk=asset.pk).assigned_to == alice


def test_an_asset_can_be_registered_where_it_already_is(agent, alice):
    asset = make_asset(agent, "AT-1", state="deployed", assigned_to=alice)
    assert asset.state == "deployed"
    with pytest.raises(ValidationError) as error:
        make_asset(agent, "AT-2", state="deployed")
    assert "assigned_to" in error.value.message_dict
    assert not Asset.objects.filter(asset_tag="AT-2").exists()


def test_each_field_change_is_recorded_with_old_and_new_value(agent, alice, bob, dell, berlin):
    asset = make_asset(agent, "AT-1", assigned_to=alice, serial_number="OLD")
    asset = services.update_asset(
        asset, agent, {"assigned_to": bob, "serial_number": "NEW", "vendor": dell}
    )
    asset = services.update_asset(asset, agent, {"location": berlin, "serial_number": "NEW"})
    changes = [e for e in history(asset) if e.kind == "fields"]
    assert [e.data for e in changes] == [
        {
            "assigned_to": ["Alice", "Bob"],
            "serial_number": ["OLD", "NEW"],
            "vendor": [None, "Dell"],
        },
        {"location": [None, "Berlin HQ"]},
    ]
    assert all(e.actor == agent for e in changes)


def test_changing_nothing_writes_nothing(agent):
    asset = make_asset(agent, "AT-1", serial_number="S")
    count = len(history(asset))
    asset = services.update_asset(asset, agent, {"serial_number": "S"})
    assert asset.version == 1
    assert len(history(asset)) == count


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"asset_tag": "AT 1"}, "asset_tag"),
        ({"asset_tag": "new"}, "asset_tag"),
        ({"currency": "euro"}, "currency"),
        ({"purchase_cost": -1}, "purchase_cost"),
        ({"purchase_date": "2024-05-01", "warranty_end": "2024-04-01"}, "warranty_end"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_fields_are_named_and_nothing_is_saved(agent, fields, field):
    with pytest.raises(ValidationError) as error:
        services.create_asset(agent, {"asset_tag": "AT-1", "model": "X", **fields})
    assert field in error.value.message_dict
    assert not Asset.objects.exists()


def test_a_duplicate_tag_is_refused(agent):
    make_asset(agent, "AT-1")
    with pytest.raises(ValidationError) as error:
        make_asset(agent, "AT-1")
    assert "asset_tag" in error.value.message_dict
    assert Asset.objects.count() == 1


def test_a_stale_version_is_refused(agent, alice):
    asset = make_asset(agent, "AT-1")
    services.update_asset(asset, agent, {"serial_number": "A"}, expected_version=1)
    with pytest.raises(StaleVersion):
        services.update_asset(asset, agent, {"serial_number": "B"}, expected_version=1)
    assert Asset.objects.get(pk=asset.pk).serial_number == "A"


def test_end_users_cannot_write(agent, alice):
    asset = make_asset(agent, "AT-1", assigned_to=alice)
    with pytest.raises(PermissionDenied):
        services.move(asset, alice, "received")
    with pytest.raises(PermissionDenied):
        services.update_asset(asset, alice, {"notes": "mine"})
    with pytest.raises(PermissionDenied):
        services.create_asset(alice, {"asset_tag": "AT-2", "model": "X"})


def test_visibility_is_decided_by_the_queryset(agent, alice, bob):
    mine = make_asset(agent, "AT-1", assigned_to=alice)
    make_asset(agent, "AT-2", assigned_to=bob)
    make_asset(agent, "AT-3")
    assert list(Asset.objects.visible_to(alice)) == [mine]
    assert Asset.objects.visible_to(agent).count() == 3
    assert not Asset.objects.visible_to(AnonymousUser()).exists()
