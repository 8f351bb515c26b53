from django.urls import path

from . import views

urlpatterns = [
    path("me/", views.preferences, name="preferences"),
    path("me/email/confirm/<str:token>/", views.confirm_email, name="email-confirm"),
    path("me/two-factor/", views.two_factor, name="two-factor"),
    path("me/two-factor/qr.svg", views.two_factor_qr, name="two-factor-qr"),
    path("login/verify/", views.sign_in_verify, name="sign-in-verify"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
