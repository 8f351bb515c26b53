"""Pickers of release management: the changes a release carries (by number or title),
and releases (a deployment's release). See ``itsm.core.lookups``."""

from changes.models import Change
from itsm.core.lookups import Lookup, register

from .models import Release

register(
    Lookup(
        key="release-changes",
        queryset=lambda: Change.objects.all(),
        search=("number", "title"),
        value="number",
        label=lambda change: f"{change.number} {change.title}",
        detail=lambda change: change.get_state_display(),
        ordering=("-created_at", "-id"),
    )
)

register(
    Lookup(
        key="releases",
        queryset=lambda: Release.objects.all(),
        search=("number", "title", "release_version"),
        value="number",
        label=lambda release: f"{release.number} {release.title}",
        detail=lambda release: f"{release.release_version} · {release.get_state_display()}",
        ordering=("-created_at", "-id"),
    )
)
