from django.urls import path

from . import workspace_views as views

app_name = "fulfilment"

NUMBER = "<str:number>"

urlpatterns = [
    path("fulfilment/", views.queue, name="queue"),
    path(f"fulfilment/tasks/{NUMBER}/", views.task_detail, name="task"),
    path(f"fulfilment/tasks/{NUMBER}/assign/", views.task_assign, name="task-assign"),
    path(f"fulfilment/tasks/{NUMBER}/state/", views.task_transition, name="task-transition"),
    path(f"fulfilment/tasks/{NUMBER}/comment/", views.task_comment, name="task-comment"),
    path(f"fulfilment/requests/{NUMBER}/", views.request_detail, name="request"),
]
