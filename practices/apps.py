from itsm.core.practices import PracticeConfig


class PracticesConfig(PracticeConfig):
    """The ITIL 4 practice registry and its map."""

    name = "practices"
    verbose_name = "ITIL 4 practices"
