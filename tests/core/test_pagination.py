"""Keyset pagination (itsm.core.pagination.paginate) on a kernel model with many ties."""

import base64
import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from itsm.core.models import Notification
from itsm.core.pagination import ordering_of, paginate
from tests.conftest import make_user


def cursor_of(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.fixture
def rows(db):
    """23 notifications whose status, attempts and created_at repeat a lot."""
    user = make_user("reader")
    base = timezone.now().replace(microsecond=0)
    statuses = ["pending", "sent", "failed"]
    Notification.objects.bulk_create(
        Notification(
            recipient=user,
            subject=f"Subject {i % 5}",
            body="",
            status=statuses[i % 3],
            attempts=i % 4,
            created_at=base + timedelta(seconds=i % 3),
        )
        for i in range(23)
    )
    return Notification.objects.all()


def walk(queryset, page_size):
    seen, cursor, pages = [], None, 0
    while True:
        page, cursor = paginate(queryset, cursor, page_size)
        assert len(page) <= page_size
        seen += [row.pk for row in page]
        pages += 1
        if cursor is None:
            return seen, pages
        assert pages < 100, "pagination does not end"


ORDERINGS = [
    [],  # the model's default: -created_at
    ["status", "-attempts", "created_at"],
    ["-status", "attempts"],
    ["-attempts"],
    ["subject", "-created_at"],
    ["-created_at", "status", "-attempts"],
    ["pk"],
    ["-pk"],
]


@pytest.mark.parametrize("ordering", ORDERINGS, ids=lambda o: ",".join(o) or "default")
@pytest.mark.parametrize("page_size", [1, 2, 5, 100])
def test_walks_every_row_once_in_order(rows, ordering, page_size):
    queryset = rows.order_by(*ordering) if ordering else rows
    expected = list(queryset.order_by(*ordering_of(queryset)).values_list("pk", flat=True))
    seen, pages = walk(queryset, page_size)
    assert seen == expected
    assert len(set(seen)) == 23
    assert pages == max(1, -(-23 // page_size))


def test_ordering_gets_a_unique_tie_breaker(rows):
    assert ordering_of(rows) == ["-created_at", "-id"]
    assert ordering_of(rows.order_by("status")) == ["status", "id"]
    assert ordering_of(rows.order_by("status", "-attempts")) == ["status", "-attempts", "-id"]
    assert ordering_of(rows.order_by("pk")) == ["id"]
    assert ordering_of(rows.order_by("-pk")) == ["-id"]
    assert ordering_of(rows.order_by("-attempts", "id")) == ["-attempts", "id"]


def test_mixed_directions_with_ties_exact_order(rows):
    queryset = rows.order_by("status", "-attempts", "created_at")
    all_rows = list(queryset.order_by("status", "-attempts", "created_at", "id"))
    page, cursor = paginate(queryset, None, 4)
    assert page == all_rows[:4]
    page, cursor = paginate(queryset, cursor, 4)
    assert page == all_rows[4:8]
    keys = [(r.status, -r.attempts, r.created_at, r.pk) for r in all_rows]
    assert keys == sorted(keys)


def test_filtered_queryset_and_empty_page(rows):
    queryset = rows.filter(status="sent").order_by("-attempts")
    seen, _ = walk(queryset, 3)
    assert seen == list(queryset.order_by("-attempts", "-id").values_list("pk", flat=True))
    empty, cursor = paginate(rows.none(), None, 10)
    assert (empty, cursor) == ([], None)


def test_exact_fit_has_no_next_cursor(rows):
    page, cursor = paginate(rows, None, 23)
    assert len(page) == 23
    assert cursor is None
    page, cursor = paginate(rows, None, 22)
    assert cursor is not None
    last, cursor = paginate(rows, cursor, 22)
    assert len(last) == 1
    assert cursor is None


def test_rows_added_before_the_cursor_do_not_reappear(rows):
    queryset = rows.order_by("-created_at")
    first, cursor = paginate(queryset, None, 5)
    # A new row sorts first (newest); the next page continues where we were.
    Notification.objects.create(
        recipient=first[0].recipient, subject="new", body="", created_at=timezone.now()
    )
    second, _ = paginate(queryset, cursor, 5)
    assert {r.pk for r in first}.isdisjoint({r.pk for r in second})
    assert all(r.subject != "new" for r in second)


@pytest.mark.parametrize(
    "cursor",
    [
        "@@@not base64@@@",
        "bm90IGpzb24",  # "not json"
        cursor_of({"a": 1}),
        cursor_of([1]),  # too few values for [-created_at, -id]
        cursor_of(["2024-01-01T00:00:00+00:00", 1, 2]),  # too many
        cursor_of([12345, 1]),  # created_at must be a date-time
        cursor_of(["yesterday", 1]),
        cursor_of(["2024-13-45T00:00:00+00:00", 1]),  # well-formed, impossible date
        cursor_of(["2024-01-01T00:00:00", 1]),  # naive: no time zone
        cursor_of([["2024-01-01T00:00:00+00:00"], 1]),
        cursor_of(["2024-01-01T00:00:00+00:00", "abc"]),  # id must be a number
        cursor_of(["2024-01-01T00:00:00+00:00", None]),
    ],
)
def test_bad_cursor_is_a_validation_error(rows, cursor):
    with pytest.raises(ValidationError) as error:
        paginate(rows, cursor, 5)
    assert "cursor" in error.value.message_dict


def test_cursor_of_another_ordering_is_refused(rows):
    _, cursor = paginate(rows.order_by("status", "-attempts"), None, 2)
    with pytest.raises(ValidationError) as error:
        paginate(rows.order_by("-created_at"), cursor, 2)
    assert "cursor" in error.value.message_dict


def test_dates_order_a_list(db):
    """Keyset pages over a date column (contracts by end date, closed days…)."""
    from datetime import date

    from practices.service_level.models import BusinessCalendar, ClosedDay

    calendar = BusinessCalendar.objects.create(name="Office", time_zone="UTC")
    for i in range(11):
        ClosedDay.objects.create(calendar=calendar, date=date(2027, 1 + i % 3, 1 + i), name=str(i))
    queryset = ClosedDay.objects.order_by("-date", "pk")
    seen, pages = walk(queryset, 4)
    assert seen == list(queryset.values_list("pk", flat=True)) and pages == 3
    with pytest.raises(ValidationError):
        paginate(queryset, cursor_of(["not a date", 1]), 4)
