from itsm.core.practices import registry


def workspace(request):
    return {"workspace_sections": registry.workspace}
