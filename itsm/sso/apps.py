from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "itsm.sso"
    label = "sso"
    verbose_name = "Single sign-on"
