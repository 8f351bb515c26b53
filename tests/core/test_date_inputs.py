"""Date and time boxes speak the person's own time zone and language: a date-time typed on
a form is read in the person's zone (named beside the box), kept in UTC, and shown back
in the zone of whoever reads it; date boxes carry the person's language (``lang``) rather
than leaving the browser's locale to decide."""

import re
from datetime import UTC, date, datetime

import pytest
from django import forms
from django.utils import timezone, translation

from catalogue.models import ServiceRequest
from itsm.core.widgets import DateInput, DateTimeInput
from tests.catalogue.test_portal import (  # noqa: F401 (fixtures)
    block,
    everything,
    full_answers,
    hardware,
    item_url,
    request_url,
)
from tests.factories import page, web

pytestmark = pytest.mark.django_db


class When(forms.Form):
    at = forms.DateTimeField(widget=DateTimeInput(), input_formats=DateTimeInput.input_formats)
    on = forms.DateField(widget=DateInput())


def test_a_date_box_carries_the_language_and_posts_iso_dates():
    with translation.override("de"):
        box = str(When(initial={"on": date(2030, 1, 15)})["on"])
    assert 'type="date"' in box and 'lang="de"' in box and 'value="2030-01-15"' in box


def test_a_time_typed_is_read_in_the_persons_zone_and_shown_back_the_same():
    with timezone.override("America/New_York"):
        form = When({"at": "2030-01-16T09:30", "on": "2030-01-15"})
        assert form.is_valid(), form.errors
        assert form.cleaned_data["at"].astimezone(UTC) == datetime(2030, 1, 16, 14, 30, tzinfo=UTC)
        shown = str(When(initial={"at": form.cleaned_data["at"].astimezone(UTC)})["at"])
    assert 'value="2030-01-16T09:30"' in shown
    assert 'data-time-zone="America/New_York"' in shown
    assert re.search(r'<small class="muted time-zone" id="id_at_zone">America/New_York time', shown)
    assert 'aria-describedby="id_at_zone"' in shown


def test_the_order_form_names_the_zone_and_the_answer_is_kept_in_utc(
    alice,
    bob,
    agent,
    everything,  # noqa: F811
    mail_server,
):
    alice.time_zone = "Europe/Berlin"
    alice.save(update_fields=["time_zone"])
    client = web(alice)
    body = page(client.get(item_url(everything)))
    handover = block(body, "handover")
    assert 'type="datetime-local"' in handover
    assert "Europe/Berlin time" in handover
    # The page's language (LANGUAGES ships en and de; the browser asked for nothing).
    assert 'lang="en"' in block(body, "needed_by")

    # 09:30 in Berlin in January is 08:30 UTC; in July (summer time) 07:30 UTC.
    response = client.post(item_url(everything), full_answers(mail_server))
    assert response.status_code == 302
    winter = ServiceRequest.objects.get()
    assert winter.variables["handover"] == "2030-01-16T08:30:00+00:00"
    assert winter.variables["needed_by"] == "2030-01-15"  # a date has no zone
    summer_answers = {**full_answers(mail_server), "handover": "2030-07-01T09:30"}
    assert client.post(item_url(everything), summer_answers).status_code == 302
    summer = ServiceRequest.objects.exclude(pk=winter.pk).get()
    assert summer.variables["handover"] == "2030-07-01T07:30:00+00:00"

    # Alice reads back what she typed, in her zone; an agent in UTC reads it in UTC.
    assert "2030-01-16 09:30 CET" in page(client.get(request_url(winter)))
    assert "2030-07-01 09:30 CEST" in page(client.get(request_url(summer)))
    agent_page = page(web(agent).get(f"/fulfilment/requests/{winter.number}/"))
    assert "2030-01-16 08:30 UTC" in agent_page
