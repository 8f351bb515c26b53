"""Helpers of the asset tests: assets made through the services, software installed on
hardware in the CMDB."""

from datetime import date, timedelta

from django.utils import timezone

from cmdb.models import Relationship, RelationshipType
from practices.assets import services
from tests.factories import ci


def make_asset(actor, tag, **fields):
    fields.setdefault("model", "ThinkPad T14")
    return services.create_asset(actor, {"asset_tag": tag, **fields})


def deployed(actor, tag, user=None, location=None, **fields):
    """An asset received and deployed to ``user`` (or to ``location``)."""
    asset = make_asset(actor, tag, **fields)
    asset = services.move(asset, actor, "received")
    changes = {"assigned_to": user, "location": location}
    return services.move(asset, actor, "deployed", changes)


def days(n: int) -> date:
    return timezone.localdate() + timedelta(days=n)


def install(software, *hosts):
    kind = RelationshipType.objects.get(key="installed_on")
    for host in hosts:
        Relationship.objects.create(source=software, type=kind, target=host)


def server(name, **fields):
    return ci(name, "server", attributes={"hostname": name}, **fields)


def software(name, **fields):
    return ci(name, "software", attributes={"publisher": "ACME", "product": name}, **fields)


def licence(actor, product, quantity, **fields):
    return services.create_licence(actor, {"software": product, "quantity": quantity, **fields})
