from django.urls import path

from itsm.api.screens import ScreenRouter

from . import cab_views, views
from . import calendar as schedule_views

app_name = "changes"

screens = ScreenRouter()
screens.register("changes/tasks", views.ChangeTaskScreens, names="task-", list="task-queue")
screens.register("changes", views.ChangeScreens, list="queue")

cab = [
    path("changes/approvals/<int:pk>/decide/", cab_views.decide_approval, name="approval-decide"),
    path("changes/cab/", cab_views.meetings, name="cab-list"),
    path("changes/cab/<int:pk>/", cab_views.workbench, name="cab-detail"),
    path("changes/cab/<int:pk>/build/", cab_views.build, name="cab-build"),
    path("changes/cab/<int:pk>/items/", cab_views.add_item, name="cab-add"),
    path(
        "changes/cab/<int:pk>/items/<int:item_pk>/remove/", cab_views.remove_item, name="cab-remove"
    ),
    path("changes/cab/<int:pk>/items/<int:item_pk>/move/", cab_views.move_item, name="cab-move"),
    path("changes/cab/<int:pk>/items/<int:item_pk>/start/", cab_views.start_item, name="cab-start"),
    path(
        "changes/cab/<int:pk>/items/<int:item_pk>/decide/", cab_views.decide_item, name="cab-decide"
    ),
    path("changes/cab/<int:pk>/minutes/", cab_views.save_minutes, name="cab-minutes"),
    path("changes/cab/<int:pk>/send/", cab_views.send_minutes, name="cab-send"),
]

schedule = [
    path("changes/calendar/", schedule_views.calendar, name="calendar"),
    path("changes/calendar.ics", schedule_views.feed, name="calendar-feed"),
    path("changes/calendar/feed/", schedule_views.feed_page, name="calendar-feed-page"),
    path("changes/calendar/freeze/", schedule_views.freeze, name="freeze"),
    path("changes/calendar/windows/<int:pk>/lift/", schedule_views.lift, name="lift"),
    path("changes/<str:number>/slots/", schedule_views.slots, name="slots"),
]

urlpatterns = [*cab, *schedule, *screens.urls]
