"""Human record numbers: unique, increasing, and safe under concurrency."""

import re
import threading

import pytest
from django.db import connection, transaction

from incidents import services
from incidents.models import Incident
from itsm.core import numbering
from tests import factories
from tests.conftest import requires_postgres

NUMBER_RE = re.compile(r"^INC\d{7}$")


def value(number: str) -> int:
    return int(number[3:])


def test_numbers_are_unique_and_increasing(agent, alice):
    made = [factories.incident(alice, actor=agent).number for _ in range(6)]
    assert all(NUMBER_RE.match(n) for n in made)
    values = [value(n) for n in made]
    assert values == sorted(values)
    assert len(set(values)) == len(values)
    assert values[0] >= numbering.FIRST_NUMBER


def test_next_number_format(db):
    first = numbering.next_number("INC")
    second = numbering.next_number("INC")
    assert NUMBER_RE.match(first)
    assert value(second) > value(first)


def test_prefix_must_be_letters():
    with pytest.raises(ValueError):
        numbering._sequence_name("INC; DROP TABLE x")
    assert numbering._sequence_name("INC") == "itsm_number_inc"


def test_every_record_type_has_a_prefix():
    assert "INC" in numbering.record_prefixes()


def test_rolled_back_creation_never_duplicates(agent, alice):
    before = factories.incident(alice, actor=agent)
    with pytest.raises(RuntimeError), transaction.atomic():
        factories.incident(alice, actor=agent, title="doomed")
        raise RuntimeError("something later in the request failed")
    after = factories.incident(alice, actor=agent)
    assert not Incident.objects.filter(title="doomed").exists()
    # PostgreSQL leaves a gap; a counter row rolls back with the rest and is reused.
    assert value(after.number) > value(before.number)
    numbers = list(Incident.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == 2


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_rolled_back_creation_leaves_a_gap_on_postgres(agent, alice):
    before = factories.incident(alice, actor=agent)
    with pytest.raises(RuntimeError), transaction.atomic():
        doomed = factories.incident(alice, actor=agent).number
        raise RuntimeError("rolled back")
    after = factories.incident(alice, actor=agent)
    assert not Incident.objects.filter(number=doomed).exists()
    assert value(before.number) < value(doomed) < value(after.number)
    assert value(after.number) == value(doomed) + 1


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creation_gives_distinct_numbers(agent, alice):
    threads_count, per_thread = 8, 10
    barrier = threading.Barrier(threads_count)
    errors: list[BaseException] = []
    made: list[str] = []
    lock = threading.Lock()

    def work(n):
        try:
            barrier.wait(timeout=30)
            for i in range(per_thread):
                incident = services.open_incident(
                    agent, {"title": f"Thread {n} incident {i}", "caller": alice}
                )
                with lock:
                    made.append(incident.number)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    total = threads_count * per_thread
    assert len(made) == total
    assert len(set(made)) == total
    stored = list(Incident.objects.values_list("number", flat=True))
    assert len(stored) == len(set(stored)) == total
    assert set(stored) == set(made)
