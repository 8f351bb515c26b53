"""Releases in the kernel's search (staff only): by number, title or version."""

from django.utils.translation import gettext_lazy as _

from itsm.core.search import CONTAINS, SearchSource

FIELDS = {"title": "A", "release_version": "B", "description": "C"}


def source() -> SearchSource:
    from .models import Release

    return SearchSource(
        key="releases",
        label=_("Releases"),
        singular=_("Release"),
        model=Release,
        queryset=lambda user: Release.objects.visible_to(user),
        fields=FIELDS,
        url=lambda release, user: release.get_absolute_url(),
        summary=lambda release, user: " · ".join(
            part for part in (release.number, release.release_version) if part
        ),
        match=CONTAINS,
        order=60,
    )
