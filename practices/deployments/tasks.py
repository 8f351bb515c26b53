from celery import shared_task

from . import github


@shared_task
def answer_github(deployment_id: int) -> str:
    """Answer a GitHub run's deployment protection rule once the gate has decided."""
    return github.answer_callback(deployment_id)


@shared_task
def recheck_github_gates() -> int:
    """Every minute: ask the gate again for the GitHub runs still waiting (approvals
    landed, a freeze lifted) and answer those it has decided; how many were answered."""
    answered = 0
    for deployment_id in github.pending():
        if github.answer_callback(deployment_id) in ("approved", "rejected"):
            answered += 1
    return answered
