"""Small helpers that make records through the services, as the product does."""

from incidents import services as incident_services


def incident(caller, actor=None, **fields):
    fields.setdefault("title", "Cannot send e-mail")
    return incident_services.open_incident(actor or caller, fields)


def resolve(incident, actor, code="solved_permanently", notes="Restarted the mail relay."):
    """Resolve an incident through the service, as an agent would."""
    return incident_services.update_incident(
        incident, actor, {"state": "resolved", "resolution_code": code, "resolution_notes": notes}
    )


def team(name, manager=None, members=()):
    from itsm.accounts.models import Team

    created = Team.objects.create(name=name, manager=manager)
    created.members.add(*members)
    return created


def category(name, parent=None):
    from incidents.models import Category

    return Category.objects.create(name=name, parent=parent)
