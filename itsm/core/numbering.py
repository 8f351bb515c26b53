"""Human record numbers: a prefix and seven digits (``INC0001001``).

On PostgreSQL each prefix has a native sequence: ``nextval`` never blocks concurrent
creators and never hands out a number twice; a rolled-back creation leaves a gap, which is
fine (numbers are unique, not dense). Other databases use a counter row.
"""

from django.apps import apps
from django.db import connection, transaction
from django.db.models import F

FIRST_NUMBER = 1001
DIGITS = 7


def _sequence_name(prefix: str) -> str:
    if not prefix.isalpha():
        raise ValueError(f"Record number prefix must be letters only, not {prefix!r}")
    return f"itsm_number_{prefix.lower()}"


def record_prefixes() -> set[str]:
    from .models import Record

    return {
        model.NUMBER_PREFIX
        for model in apps.get_models()
        if issubclass(model, Record) and model.NUMBER_PREFIX
    }


def _create_sequence(cursor, prefix: str) -> None:
    cursor.execute(
        f"CREATE SEQUENCE IF NOT EXISTS {_sequence_name(prefix)} START WITH {FIRST_NUMBER}"
    )


def ensure_sequences(**kwargs) -> None:
    """post_migrate: create the sequence of every record type (PostgreSQL only)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for prefix in sorted(record_prefixes()):
            _create_sequence(cursor, prefix)


def next_value(prefix: str) -> int:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(%s)", [_sequence_name(prefix)])
            return cursor.fetchone()[0]
    from .models import NumberSequence

    with transaction.atomic():
        NumberSequence.objects.get_or_create(
            prefix=prefix, defaults={"last_value": FIRST_NUMBER - 1}
        )
        NumberSequence.objects.filter(prefix=prefix).update(last_value=F("last_value") + 1)
        return NumberSequence.objects.get(prefix=prefix).last_value


def next_number(prefix: str) -> str:
    return f"{prefix}{next_value(prefix):0{DIGITS}d}"
