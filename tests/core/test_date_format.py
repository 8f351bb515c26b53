"""A person's own date format: the browser draws a date picker in its own language
whatever the page says, so a person who chose a format (``User.date_format``) types and
reads dates in it, in every form, and what they type reaches the forms and the API's
serializers as ISO 8601. The default keeps the browser's picker."""

from datetime import UTC, date, datetime

import pytest
from django import forms
from django.utils import timezone

from itsm.accounts.models import DateFormat
from itsm.core import formats
from itsm.core.widgets import DateInput, DateTimeInput
from practices.assets.models import Asset
from tests.assets.helpers import make_asset
from tests.factories import html_form, page, web

pytestmark = pytest.mark.django_db


class When(forms.Form):
    at = forms.DateTimeField(widget=DateTimeInput(), input_formats=DateTimeInput.input_formats)
    on = forms.DateField(widget=DateInput())


def box(form, name) -> str:
    return str(form[name])


def test_by_default_the_browsers_picker_with_iso_values():
    html = box(When(initial={"on": date(2026, 12, 7)}), "on")
    assert 'type="date"' in html and 'value="2026-12-07"' in html


@pytest.mark.parametrize(
    ("key", "shown", "placeholder"),
    [
        ("dmy", "07/12/2026", "DD/MM/YYYY"),
        ("mdy", "12/07/2026", "MM/DD/YYYY"),
        ("iso", "2026-12-07", "YYYY-MM-DD"),
    ],
)
def test_a_chosen_format_is_a_text_box_in_it(key, shown, placeholder):
    with formats.override(key):
        html = box(When(initial={"on": date(2026, 12, 7)}), "on")
        assert 'type="text"' in html and f'value="{shown}"' in html
        assert f'placeholder="{placeholder}"' in html
        form = When({"on": shown, "at": ""})
        assert form.is_valid() is False  # "at" is required
        assert form.cleaned_data["on"] == date(2026, 12, 7)


def test_a_date_not_in_the_format_is_refused_with_the_field_named():
    with formats.override("dmy"):
        form = When({"on": "31/02/2026", "at": "07/12/2026 09:30"})
        assert not form.is_valid()
        assert list(form.errors) == ["on"]


def test_a_time_typed_in_the_format_is_read_in_the_persons_zone():
    with timezone.override("Europe/Berlin"), formats.override("dmy"):
        form = When({"on": "07/12/2026", "at": "07/12/2026 09:30"})
        assert form.is_valid(), form.errors
        assert form.cleaned_data["at"].astimezone(UTC) == datetime(2026, 12, 7, 8, 30, tzinfo=UTC)
        html = box(When(initial={"at": form.cleaned_data["at"]}), "at")
        assert 'value="07/12/2026 09:30"' in html


def test_the_preference_is_saved_and_refused_when_unknown(agent):
    client = web(agent)
    data = html_form(page(client.get("/me/")), "")
    data["date_format"] = "dmy"
    assert client.post("/me/", data).status_code == 302
    agent.refresh_from_db()
    assert agent.date_format == DateFormat.DMY
    data["date_format"] = "klingon"
    response = client.post("/me/", data)
    assert response.status_code == 400 and 'name="date_format"' in page(response)
    agent.refresh_from_db()
    assert agent.date_format == DateFormat.DMY


def test_an_agent_edits_a_date_in_their_format_through_the_kernels_edit(agent):
    agent.date_format = DateFormat.DMY
    agent.save()
    make_asset(agent, "AT-1", purchase_date=date(2024, 5, 1))
    client = web(agent)
    html = page(client.get("/assets/AT-1/"))
    assert 'value="01/05/2024"' in html
    data = html_form(html, "/assets/AT-1/edit/")
    data["warranty_end"] = "31/12/2027"
    response = client.post("/assets/AT-1/edit/", data)
    assert response.status_code == 302, page(response)
    assert Asset.objects.get(asset_tag="AT-1").warranty_end == date(2027, 12, 31)
