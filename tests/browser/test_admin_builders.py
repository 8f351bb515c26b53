"""The admin's builder rows in a real browser: an administrator builds an agreement's pause
condition from rows (no JSON typed), saves it, and finds it again as rows; the agreement
page fits a 1440 px screen."""

from datetime import timedelta

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

from practices.service_level.models import Agreement, BusinessCalendar, Target, Threshold

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def calendar(db):
    return BusinessCalendar.objects.create(name="24x7", always_open=True)


def test_an_administrator_builds_a_pause_condition_from_rows(pages, admin_user, calendar):
    page = pages.signed_in("admin", width=1440)
    page.goto("/admin/service_level/agreement/add/")
    page.get_by_label("Name:").fill("Gold")
    page.get_by_label("Record type:").select_option(label="Incident")
    page.get_by_label("1 - Critical").check()
    page.get_by_label("2 - High").check()

    pause = page.locator(".form-row.field-pause_when .builder")
    # The JSON box is closed: the rows are the field.
    expect(pause.locator("details.builder-json")).not_to_have_attribute("open", "")
    pause.get_by_role("button", name="Add condition").click()
    row = pause.locator(".builder-row").first
    row.get_by_label("Attribute").select_option(label="State")
    row.get_by_label("Value").select_option(label="On hold")
    pause.get_by_role("button", name="Add attribute").click()
    second = pause.locator(".builder-row").nth(1)
    # An attribute already in the condition cannot be chosen twice.
    expect(second.get_by_label("Attribute").locator("option", has_text="State")).to_be_disabled()
    second.get_by_label("Attribute").select_option(label="On hold reason")
    second.get_by_label("Operator").select_option(label="is one of")
    second.get_by_label("Awaiting caller").check()
    second.get_by_label("Awaiting supplier").check()

    page.get_by_text("Add another Target").click()
    page.locator("#id_targets-0-name").fill("Resolve in 8h")
    page.locator("#id_targets-0-metric").select_option("resolution")
    page.locator("#id_targets-0-duration").fill("08:00:00")
    page.locator("#id_targets-0-calendar").select_option(label="24x7")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    gold = Agreement.objects.get(name="Gold")
    assert gold.pause_when == [
        {"state": "on_hold", "on_hold_reason": ["awaiting_caller", "awaiting_supplier"]}
    ]
    assert gold.priorities == "1,2"
    # Opened again: the same rows.
    pause = page.locator(".form-row.field-pause_when .builder")
    expect(pause.locator(".builder-row")).to_have_count(2)
    expect(pause.locator(".builder-row").first.get_by_label("Value")).to_have_value("2")
    expect(pause.get_by_label("Awaiting supplier")).to_be_checked()
    expect(pause.get_by_label("Awaiting change")).not_to_be_checked()


def test_a_wrong_row_shows_its_error_on_the_row(pages, admin_user, calendar):
    gold = Agreement.objects.create(
        name="Gold", record_type_id=_incident_type(), pause_when=[{"state": "on_hold"}]
    )
    Target.objects.create(
        agreement=gold,
        name="R",
        metric="resolution",
        duration=timedelta(hours=8),
        calendar=calendar,
    )
    page = pages.signed_in("admin", width=1440)
    page.goto(f"/admin/service_level/agreement/{gold.pk}/change/")
    pause = page.locator(".form-row.field-pause_when .builder")
    # A value typed into the JSON (advanced) that is no state: rows redraw from it.
    pause.locator("summary").click()
    pause.locator("textarea").fill('[{"state": "hold"}]')
    pause.locator("textarea").dispatch_event("change")
    page.get_by_role("button", name="Save and continue editing").click()
    row = page.locator(".form-row.field-pause_when .builder-row").first
    expect(row.locator(".builder-error")).to_contain_text("'hold' is not one of")
    gold.refresh_from_db()
    assert gold.pause_when == [{"state": "on_hold"}]


def test_the_agreement_page_fits_1440_pixels(pages, admin_user, calendar):
    gold = Agreement.objects.create(name="Gold", record_type_id=_incident_type())
    Target.objects.create(
        agreement=gold,
        name="R",
        metric="resolution",
        duration=timedelta(hours=8),
        calendar=calendar,
    )
    for percent in (50, 75, 100):
        Threshold.objects.create(agreement=gold, percent=percent)
    page = pages.signed_in("admin", width=1440)
    page.goto(f"/admin/service_level/agreement/{gold.pk}/change/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1440


def test_an_administrator_builds_a_choice_and_a_condition_on_it(pages, admin_user):
    from tests.factories import laptop_item

    item = laptop_item()
    page = pages.signed_in("admin", width=1440)
    page.goto(f"/admin/catalogue/catalogueitem/{item.pk}/change/")
    choices = page.locator(".builder", has=page.locator('textarea[name="variables-0-choices"]'))
    choices.get_by_role("button", name="Add choice").click()
    choices.get_by_label("Value").last.fill("dell")
    choices.get_by_label("Label").last.fill("Dell XPS")
    page.get_by_text("Add another Variable").click()
    page.locator("#id_variables-1-name").fill("reason")
    page.locator("#id_variables-1-label").fill("Why a Dell?")
    show = page.locator(".builder", has=page.locator('textarea[name="variables-1-show_when"]'))
    show.get_by_label("Question").select_option("model")
    show.get_by_label("Value").select_option(label="Dell XPS")
    # An approval level by the manager takes no team; a team level does.
    page.get_by_text("Add another Approval level").click()
    page.locator("#id_approval_levels-0-kind").select_option("manager")
    expect(page.locator("#id_approval_levels-0-team")).to_be_disabled()
    page.locator("#id_approval_levels-0-kind").select_option("team_any")
    expect(page.locator("#id_approval_levels-0-team")).to_be_enabled()
    page.locator("#id_approval_levels-0-kind").select_option("manager")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    assert list(item.approval_levels.values_list("kind", "team")) == [("manager", None)]
    model = item.variables.get(name="model")
    assert model.choices[-1] == {"value": "dell", "label": "Dell XPS"}
    assert item.variables.get(name="reason").show_when == {"variable": "model", "equals": "dell"}


def _incident_type():
    from django.contrib.contenttypes.models import ContentType

    from incidents.models import Incident

    return ContentType.objects.get_for_model(Incident).pk
