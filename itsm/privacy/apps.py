from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "itsm.privacy"
    label = "privacy"
    verbose_name = "Privacy"
