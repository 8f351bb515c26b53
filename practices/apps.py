from django.utils.translation import gettext_lazy as _

from itsm.core.practices import PracticeConfig


class PracticesConfig(PracticeConfig):
    """The ITIL 4 practice registry and its map."""

    name = "practices"
    verbose_name = _("ITIL 4 practices")
