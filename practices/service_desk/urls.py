from django.urls import path

from itsm.sso.views import SignOutView

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", SignOutView.as_view(), name="logout"),
    path("portal/", views.portal_home, name="portal-home"),
    path("views/", views.save_view, name="saved-view-create"),
    path("work/", views.work_home, name="work-home"),
    path("search/", views.search_page, name="search"),
    path("search/quick/", views.quick_search, name="quick-search"),
    path("suggestions/", views.suggestions, name="suggestions"),
    path("views/<int:pk>/delete/", views.delete_view, name="saved-view-delete"),
]
