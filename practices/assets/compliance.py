"""Software licence compliance: entitlements (valid licences) against installations
(non-retired hardware a software CI is installed on), in a fixed number of queries."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cmdb.models import CIClass, ConfigurationItem, Relationship, Status

from .models import Licence

INSTALLED_ON = "installed_on"


class ComplianceStatus:
    OVER = "over_licensed"
    UNDER = "under_licensed"
    COMPLIANT = "compliant"
    LABELS = {
        OVER: _("Over-licensed"),
        UNDER: _("Under-licensed"),
        COMPLIANT: _("Compliant"),
    }
    CHOICES = [(OVER, LABELS[OVER]), (UNDER, LABELS[UNDER]), (COMPLIANT, LABELS[COMPLIANT])]


@dataclass(frozen=True)
class ComplianceRow:
    software: ConfigurationItem
    entitlements: int
    installations: int

    @property
    def difference(self) -> int:
        """Entitlements minus installations: positive is spare, negative is missing."""
        return self.entitlements - self.installations

    @property
    def status(self) -> str:
        if self.difference > 0:
            return ComplianceStatus.OVER
        if self.difference < 0:
            return ComplianceStatus.UNDER
        return ComplianceStatus.COMPLIANT

    @property
    def status_label(self) -> str:
        return ComplianceStatus.LABELS[self.status]


def class_ids(flag: str) -> set[int]:
    """Ids of the CI classes with ``flag`` (``is_software``/``is_hardware``) set, and of
    all their descendants (one query over the small class table)."""
    rows = list(CIClass.objects.values_list("pk", "parent_id", flag))
    parent = {pk: parent_id for pk, parent_id, _ in rows}
    flagged = {pk for pk, _, value in rows if value}
    found = set()
    for pk in parent:
        seen, current = set(), pk
        while current is not None and current not in seen:
            if current in flagged:
                found.add(pk)
                break
            seen.add(current)
            current = parent.get(current)
    return found


def is_software(ci: ConfigurationItem) -> bool:
    return ci.ci_class_id in class_ids("is_software")


def report(today: date | None = None) -> list[ComplianceRow]:
    """One row per software CI that has a licence or an installation, by name. Three
    queries whatever the number of CIs, licences and installations."""
    today = today or timezone.localdate()
    software_ids = class_ids("is_software")
    hardware_ids = class_ids("is_hardware")
    entitled = (
        Licence.objects.filter(Licence.valid_on(today), software=OuterRef("pk"))
        .order_by()
        .values("software")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    installed = (
        Relationship.objects.filter(
            source=OuterRef("pk"), type__key=INSTALLED_ON, target__ci_class__in=hardware_ids
        )
        .exclude(target__status=Status.RETIRED)
        .order_by()
        .values("source")
        .annotate(n=Count("target", distinct=True))
        .values("n")
    )
    zero = Value(0, output_field=IntegerField())
    software = (
        ConfigurationItem.objects.filter(ci_class__in=software_ids)
        .annotate(
            licensed=Exists(Licence.objects.filter(software=OuterRef("pk"))),
            entitlements=Coalesce(Subquery(entitled, output_field=IntegerField()), zero),
            installations=Coalesce(Subquery(installed, output_field=IntegerField()), zero),
        )
        .filter(Q(licensed=True) | Q(installations__gt=0))
        .select_related("ci_class")
        .order_by("name", "pk")
    )
    return [
        ComplianceRow(software=ci, entitlements=ci.entitlements, installations=ci.installations)
        for ci in software
    ]


def summary(rows: list[ComplianceRow]) -> dict[str, int]:
    counts = dict.fromkeys(ComplianceStatus.LABELS, 0)
    for row in rows:
        counts[row.status] += 1
    return counts
