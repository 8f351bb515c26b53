"""Writers on their own connections, at the same time, make one unbroken chain (the
appends are serialised on the chain head's row)."""

import threading

import pytest
from django.db import connection, connections

from itsm.audit.models import AuditEvent
from itsm.audit.services import record
from itsm.audit.verify import verify

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="one connection on SQLite"),
]

THREADS, EACH = 6, 15


def test_concurrent_appends_keep_one_chain():
    barrier = threading.Barrier(THREADS)
    errors = []

    def write(n):
        try:
            barrier.wait()
            for i in range(EACH):
                record("test.concurrent", writer=n, number=i)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    sequences = list(
        AuditEvent.objects.filter(action="test.concurrent")
        .order_by("sequence")
        .values_list("sequence", flat=True)
    )
    assert len(sequences) == THREADS * EACH
    assert sequences == list(range(sequences[0], sequences[0] + THREADS * EACH))
    result = verify()
    assert result.ok, result
    assert result.checked == AuditEvent.objects.count()
