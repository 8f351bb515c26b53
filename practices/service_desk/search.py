"""People in the kernel's search, for staff: found by name, username or e-mail address,
and opened at the incidents they called in."""

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from itsm.core.search import CONTAINS, SearchSource

FIELDS = {"username": "A", "first_name": "A", "last_name": "A", "email": "B"}


def _people(user):
    from itsm.accounts.models import User

    if not user.is_authenticated or not user.is_active or not user.is_agent:
        return User.objects.none()
    return User.objects.visible_to(user).filter(is_active=True).select_related("organization")


def _title(person, user) -> str:
    return person.get_full_name() or person.username


def _url(person, user) -> str:
    return f"{reverse('incidents:queue')}?{urlencode({'caller': person.username})}"


def _summary(person, user) -> str:
    parts = [person.email, person.phone, getattr(person.organization, "name", "")]
    return " · ".join(p for p in parts if p)


def source() -> SearchSource:
    from itsm.accounts.models import User

    return SearchSource(
        key="people",
        label=_("People"),
        singular=_("Person"),
        model=User,
        queryset=_people,
        fields=FIELDS,
        title=_title,
        url=_url,
        summary=_summary,
        state=lambda person, user: person.get_role_display(),
        match=CONTAINS,
        order=70,
    )
