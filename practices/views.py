from django.shortcuts import render

from itsm.accounts.decorators import agent_required

from . import registry


@agent_required
def practice_map(request):
    """All 34 ITIL 4 practices, what each is for, and live figures of those supported."""
    groups = [
        (group, [(p, [kpi for provider in p.kpis for kpi in provider()]) for p in practices])
        for group, practices in registry.by_group()
    ]
    return render(request, "practices/map.html", {"groups": groups})
