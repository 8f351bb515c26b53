from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile

from catalogue.models import CatalogueCategory, CatalogueItem, Variable
from catalogue.services import submit_request
from incidents import services as incidents
from incidents.models import Incident
from itsm.accounts.models import Role
from itsm.core import services as core
from practices.service_level.models import Agreement, BusinessCalendar, Target
from tests.conftest import make_user
from tests.factories import incident


@pytest.fixture
def sla(db):
    calendar = BusinessCalendar.objects.create(name="24x7", always_open=True)
    created = Agreement.objects.create(
        name="Standard", record_type=ContentType.objects.get_for_model(Incident), order=100
    )
    Target.objects.create(
        agreement=created,
        name="Resolve in 4h",
        metric="resolution",
        duration=timedelta(hours=4),
        calendar=calendar,
    )
    return created


@pytest.fixture
def ann(db, org):
    """The person whose data is erased: distinctive name, address and phone."""
    person = make_user("annlee", organization=org, last_name="Leeworth", phone="+49 30 5550199")
    person.first_name = "Annabel"
    person.save(update_fields=["first_name"])
    return person


@pytest.fixture
def administrator(db):
    return make_user("chief", Role.ADMINISTRATOR)


def text_file(name, content=b"hello"):
    return SimpleUploadedFile(name, content, content_type="text/plain")


@pytest.fixture
def anns_data(ann, bob, agent, sla):
    """Records naming Ann as caller and in their text, her comments, a field change naming
    her, her attachment, a request for her with a user answer, and Bob's own incident."""
    mine = incident(ann, title="Annabel Leeworth cannot print")
    core.add_comment(mine, ann, "Please call me on +49 30 5550199 or annlee@example.com")
    core.add_attachment(mine, ann, text_file("screenshot.txt"))
    core.add_attachment(mine, ann, text_file("annlee-cv.txt", b"my CV"))
    incidents.update_incident(mine, agent, {"description": "Called Annabel Leeworth back."})
    # Ann as an assignee-to-be: agent reassigns a record to someone else, journal names her
    bobs = incident(bob, agent, title="Bob's VPN drops")
    core.add_comment(bobs, agent, "Bob said Annabel Leeworth has the same problem.", True)
    shelf = CatalogueCategory.objects.create(name="Access")
    item = CatalogueItem.objects.create(name="Same access as", category=shelf)
    Variable.objects.create(item=item, name="colleague", label="Colleague", type="user")
    request = submit_request(bob, item, {"colleague": "annlee"})
    return {"incident": mine, "bobs": bobs, "request": request}
