from django.shortcuts import render

from itsm.accounts.decorators import agent_required
from itsm.core.scoping import separation

from . import registry


@agent_required
def practice_map(request):
    """All 34 ITIL 4 practices, what each is for, and live figures of those supported.

    The figures count every record: they are shown only to whoever sees every record (with
    data separation, an agent does not learn how many records others' customers have)."""
    figures = separation(request.user) is None
    groups = [
        (
            group,
            [
                (p, [kpi for provider in p.kpis for kpi in provider()] if figures else [])
                for p in practices
            ],
        )
        for group, practices in registry.by_group()
    ]
    return render(request, "practices/map.html", {"groups": groups})
