"""Linking incidents, resolving a problem with its incidents, causes, workaround use and
rating, and incident trends."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.models import Incident
from itsm.core.models import JournalEntry
from problems import services
from problems.models import Cause, Dimension, Problem, WorkaroundUse
from problems.workflows import ProblemState as S
from tests import factories

from .conftest import known_error, make_problem


def journal(record, kind=None):
    entries = JournalEntry.objects.for_record(record)
    return entries.filter(kind=kind) if kind else entries


# Linking ------------------------------------------------------------------------------------


def test_linking_incidents_journals_on_both_sides(agent, problem, open_incidents):
    added = services.link_incidents(problem, agent, open_incidents)
    assert {i.pk for i in added} == {i.pk for i in open_incidents}
    assert set(problem.incidents.all()) == set(open_incidents)
    for incident in open_incidents:
        assert incident.problems.get() == problem
        assert journal(incident, "link").filter(body__contains=problem.number).exists()
    assert journal(problem, "fields").exists()
    # Linking again changes nothing.
    assert services.link_incidents(problem, agent, open_incidents) == []


def test_unlinking_an_incident(agent, problem, open_incidents):
    services.link_incidents(problem, agent, open_incidents)
    services.unlink_incident(problem, agent, open_incidents[0])
    assert list(problem.incidents.all()) == [open_incidents[1]]
    assert journal(open_incidents[0], "link").filter(body__startswith="removed").exists()
    with pytest.raises(ValidationError):
        services.unlink_incident(problem, agent, open_incidents[0])


def test_replacing_incidents_through_update(agent, problem, open_incidents):
    problem = services.update_problem(problem, agent, {"incidents": open_incidents})
    problem = services.update_problem(problem, agent, {"incidents": open_incidents[1:]})
    assert list(problem.incidents.all()) == open_incidents[1:]
    assert journal(open_incidents[0], "link").count() == 2


# Resolving with incidents -----------------------------------------------------------------------


def resolve_problem(problem, actor, **kwargs):
    return services.update_problem(
        problem,
        actor,
        {"state": S.RESOLVED, "resolution_notes": "Relay pool enlarged."},
        **kwargs,
    )


def test_resolving_resolves_only_the_open_incidents(agent, alice, problem, open_incidents):
    done = factories.incident(alice, actor=agent, title="Old mail issue")
    factories.resolve(done, agent, notes="Earlier fix.")
    services.link_incidents(problem, agent, [*open_incidents, done])

    problem = resolve_problem(problem, agent, resolve_incidents=True)

    assert sorted(problem.resolved_incidents) == sorted(i.number for i in open_incidents)
    for incident in open_incidents:
        incident.refresh_from_db()
        assert incident.state == "resolved"
        assert incident.resolution_code == "solved_permanently"
        assert problem.number in incident.resolution_notes
        assert "Relay pool enlarged." in incident.resolution_notes
        assert journal(incident, "state").exists()
        assert journal(incident, "work_note").filter(body__contains=problem.number).exists()
    done.refresh_from_db()
    assert done.resolution_notes == "Earlier fix."
    assert journal(problem, "work_note").filter(body__startswith="Resolved 2 linked").exists()


def test_resolving_without_the_flag_leaves_incidents(agent, problem, open_incidents):
    services.link_incidents(problem, agent, open_incidents)
    problem = resolve_problem(problem, agent)
    assert problem.resolved_incidents == []
    assert all(
        i.state == "new" for i in Incident.objects.filter(pk__in=[i.pk for i in open_incidents])
    )


def test_flag_without_resolving_is_refused(agent, problem):
    with pytest.raises(ValidationError) as error:
        services.update_problem(problem, agent, {"title": "x"}, resolve_incidents=True)
    assert "resolve_incidents" in error.value.message_dict


def test_nothing_changes_if_one_incident_cannot_be_resolved(
    agent, problem, open_incidents, monkeypatch
):
    services.link_incidents(problem, agent, open_incidents)
    before = {i.pk: journal(i).count() for i in open_incidents}
    version = Problem.objects.get(pk=problem.pk).version
    real = services.incident_services.update_incident

    def refuse_second(incident, actor, data, *args, **kwargs):
        if incident.pk == open_incidents[1].pk:
            raise ValidationError({"state": "Blocked by a test."})
        return real(incident, actor, data, *args, **kwargs)

    monkeypatch.setattr(services.incident_services, "update_incident", refuse_second)
    with pytest.raises(ValidationError) as error:
        resolve_problem(problem, agent, resolve_incidents=True)
    assert open_incidents[1].number in " ".join(error.value.message_dict["resolve_incidents"])
    fresh = Problem.objects.get(pk=problem.pk)
    assert fresh.state == S.NEW and fresh.version == version
    for incident in open_incidents:
        incident.refresh_from_db()
        assert incident.state == "new"
        assert journal(incident).count() == before[incident.pk]


def test_children_resolved_with_their_parent_are_counted_once(agent, alice, problem):
    parent = factories.incident(alice, actor=agent, title="Mail down")
    child = factories.incident(alice, actor=agent, title="My mail down", parent=parent)
    services.link_incidents(problem, agent, [parent, child])
    problem = resolve_problem(problem, agent, resolve_incidents=True)
    child.refresh_from_db()
    assert child.state == "resolved"
    assert parent.number in problem.resolved_incidents


# Causes ------------------------------------------------------------------------------------------


def test_causes_in_the_four_dimensions(agent, problem):
    for dimension in Dimension.values:
        services.add_cause(problem, agent, {"dimension": dimension, "description": dimension})
    assert problem.causes.count() == 4
    assert Problem.objects.get(pk=problem.pk).version == 5  # each cause moves the version


def test_bad_cause_is_refused(agent, problem):
    with pytest.raises(ValidationError) as error:
        services.add_cause(problem, agent, {"dimension": "weather", "description": " "})
    assert set(error.value.message_dict) == {"dimension", "description"}
    assert not Cause.objects.exists()


def test_remove_cause(agent, problem):
    cause = services.add_cause(
        problem, agent, {"dimension": Dimension.PARTNERS_AND_SUPPLIERS, "description": "Vendor"}
    )
    services.remove_cause(cause, agent)
    assert not Cause.objects.exists()
    assert journal(problem, "fields").filter(body__startswith="Removed a cause").exists()


# Workarounds ------------------------------------------------------------------------------------


def test_using_a_workaround_links_and_journals(agent, service_desk, open_incidents):
    problem = known_error(agent, service_desk)
    incident = open_incidents[0]
    use, created = services.use_workaround(problem, incident, agent)
    assert created and use.used_by == agent and use.used_at
    assert problem.incidents.filter(pk=incident.pk).exists()
    assert journal(incident, "work_note").filter(body__contains="Restart the mail client").exists()
    assert journal(problem, "work_note").filter(body__contains=incident.number).exists()
    # Again: the same use, nothing new.
    again, created = services.use_workaround(problem, incident, agent)
    assert again.pk == use.pk and not created
    assert WorkaroundUse.objects.count() == 1


def test_workaround_use_needs_a_workaround_and_an_open_incident(
    agent, problem, service_desk, open_incidents
):
    with pytest.raises(ValidationError) as error:
        services.use_workaround(problem, open_incidents[0], agent)
    assert "workaround" in error.value.message_dict
    ke = known_error(agent, service_desk, title="Other")
    factories.resolve(open_incidents[1], agent)
    open_incidents[1].refresh_from_db()
    with pytest.raises(ValidationError) as error:
        services.use_workaround(ke, open_incidents[1], agent)
    assert "incident" in error.value.message_dict
    assert not WorkaroundUse.objects.exists()


def test_rating_by_the_agent_who_used_it(agent, agent2, manager, service_desk, open_incidents):
    problem = known_error(agent, service_desk)
    use, _ = services.use_workaround(problem, open_incidents[0], agent)
    with pytest.raises(PermissionDenied):
        services.rate_workaround(use, agent2, 4)
    with pytest.raises(ValidationError) as error:
        services.rate_workaround(use, agent, 9)
    assert "effectiveness" in error.value.message_dict
    use = services.rate_workaround(use, agent, 4, "Worked after a restart.")
    assert use.effectiveness == 4 and use.rated_by == agent and use.rated_at
    assert journal(problem, "work_note").filter(body__contains="rated 4/5").exists()
    assert services.rate_workaround(use, manager, 5).effectiveness == 5


# Trends ---------------------------------------------------------------------------------------


@pytest.fixture
def recurring(agent, alice, email_service, mail_server):
    """Four incidents on the mail server and the e-mail service, one older than a week."""
    made = [
        factories.incident(
            alice,
            actor=agent,
            title=f"Mail issue {n}",
            service=email_service,
            configuration_items=[mail_server],
        )
        for n in range(4)
    ]
    Incident.objects.filter(pk=made[0].pk).update(created_at=timezone.now() - timedelta(days=9))
    return made


def test_trends_group_recent_unlinked_incidents(recurring, email_service, mail_server):
    groups = services.incident_trends()
    found = {(g.dimension, g.key): g for g in groups}
    assert set(found) == {("configuration_item", mail_server.pk), ("service", email_service.pk)}
    for group in found.values():
        assert group.count == 3
        assert {n for n, _ in group.incidents} == {i.number for i in recurring[1:]}
    assert services.incident_trends(threshold=4) == []
    assert {g.count for g in services.incident_trends(threshold=4, days=30)} == {4}


def test_trends_leave_out_incidents_already_in_a_problem(agent, recurring):
    make_problem(agent, incidents=[recurring[1]])
    assert services.incident_trends() == []
    assert services.incident_trends(threshold=2)[0].count == 2


def test_trend_queries_do_not_grow_with_incidents(agent, alice, email_service, mail_server):
    def count():
        with CaptureQueriesContext(connection) as captured:
            services.incident_trends(threshold=1)
        return len(captured)

    factories.incident(alice, actor=agent, service=email_service, configuration_items=[mail_server])
    few = count()
    for _ in range(5):
        factories.incident(
            alice, actor=agent, service=email_service, configuration_items=[mail_server]
        )
    assert count() == few <= 6


def test_bad_trend_parameters(db):
    with pytest.raises(ValidationError) as error:
        services.incident_trends(threshold=0, days="x")
    assert set(error.value.message_dict) == {"threshold", "days"}


def test_raise_a_problem_from_a_trend(agent, recurring, mail_server):
    problem = services.raise_from_trend(agent, "configuration_item", mail_server.pk)
    assert mail_server.name in problem.title
    assert set(problem.incidents.all()) == set(recurring[1:])
    assert list(problem.configuration_items.all()) == [mail_server]
    assert problem.state == S.NEW
    # The group is covered now.
    with pytest.raises(ValidationError) as error:
        services.raise_from_trend(agent, "configuration_item", mail_server.pk)
    assert "key" in error.value.message_dict


def test_raise_with_bad_input(agent, recurring):
    for dimension, key, field in (
        ("planet", 1, "dimension"),
        ("service", "abc", "key"),
        ("service", 999999, "key"),
    ):
        with pytest.raises(ValidationError) as error:
            services.raise_from_trend(agent, dimension, key)
        assert field in error.value.message_dict
    assert not Problem.objects.exists()
