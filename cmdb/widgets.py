"""Picking CIs in other practices' forms (an incident's affected CIs…) without listing the
whole CMDB: the kernel's ``ChosenPicker`` draws the chosen CIs only, and others are found
by typing (the ``cis`` lookup, ``cmdb/lookups.py``)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from itsm.core.widgets import ChosenPicker

from .models import ConfigurationItem


class CIMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Affected CIs, any number, checked against the CMDB by id (one query)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", ConfigurationItem.objects.all())
        kwargs.setdefault("widget", ChosenPicker("cis", placeholder=_("Add a CI: type its name")))
        super().__init__(**kwargs)
