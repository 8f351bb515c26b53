from django.urls import path

from itsm.api.screens import ScreenRouter

from . import views

app_name = "problems"

NUMBER = "<str:number>"

screens = ScreenRouter()
screens.register("problems", views.ProblemScreens, list="queue")

urlpatterns = [
    path("problems/trends/", views.trends, name="trends"),
    path("problems/trends/raise/", views.raise_problem, name="raise"),
    path("problems/workaround-uses/<int:pk>/rate/", views.rate_workaround, name="rate-workaround"),
    path("portal/known-errors/", views.portal_known_errors, name="portal-known-errors"),
    path(f"portal/known-errors/{NUMBER}/", views.portal_known_error, name="portal-known-error"),
    path(
        f"portal/known-errors/{NUMBER}/solved/",
        views.portal_known_error_solved,
        name="portal-known-error-solved",
    ),
    *screens.urls,
]
