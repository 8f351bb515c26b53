from django.urls import path

from itsm.api.screens import ScreenRouter

from . import calendar as schedule_views
from . import views

app_name = "changes"

screens = ScreenRouter()
screens.register("changes/tasks", views.ChangeTaskScreens, names="task-", list="task-queue")
screens.register("changes", views.ChangeScreens, list="queue")

schedule = [
    path("changes/calendar/", schedule_views.calendar, name="calendar"),
    path("changes/calendar.ics", schedule_views.feed, name="calendar-feed"),
    path("changes/calendar/feed/", schedule_views.feed_page, name="calendar-feed-page"),
    path("changes/calendar/freeze/", schedule_views.freeze, name="freeze"),
    path("changes/calendar/windows/<int:pk>/lift/", schedule_views.lift, name="lift"),
    path("changes/<str:number>/slots/", schedule_views.slots, name="slots"),
]

urlpatterns = [*schedule, *screens.urls]
