"""Demo data of release management, loaded by ``manage.py load_demo`` after changes: the
ERP's feature pack as a release in deployment, its CIs from the CMDB and its release
notes. Deployment management's demo deploys it. Skipped when it exists."""

from datetime import timedelta

from django.utils import timezone

from changes.models import Change
from cmdb.models import ConfigurationItem

from . import services
from .models import Release, ReleaseType
from .workflows import ReleaseState as S

TITLE = "ERP feature pack 02"
NOTES = """## What is new

* **Order screen**: the stock column loads with the page, not after it.
* **Reports**: the stock report runs against the reporting replica, so the order
  screen stays fast while it runs.

## Fixed

* Exports of more than 10,000 lines no longer time out.

## Known issues

None.
"""


def load(context) -> None:
    existing = Release.objects.filter(title=TITLE).first()
    if existing is not None:
        context.shared["demo_release"] = existing
        return
    paul = context.user("paul")
    start = (timezone.now() - timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    release = services.open_release(
        paul,
        {
            "title": TITLE,
            "description": "The ERP's second feature pack of the year: order screen and "
            "report performance.",
            "release_version": "2023 FPS02",
            "release_type": ReleaseType.MINOR,
            "release_manager": context.user("priya"),
            "assignment_group": context.teams["Applications"],
            "assigned_to": paul,
            "configuration_items": list(ConfigurationItem.objects.filter(name="SAP S/4HANA")),
            # the change the pipeline registered for the SAP kernel patch it deployed
            "changes": list(Change.objects.filter(title__startswith="Record the SAP kernel")),
            "release_notes": NOTES,
            "planned_start": start,
            "planned_end": start + timedelta(days=7),
        },
    )
    for state in (S.BUILD, S.TEST, S.DEPLOY):
        release = services.update_release(release, paul, {"state": state})
    context.shared["demo_release"] = release
    context.log(f"  release {release.number} ({release.release_version})")
