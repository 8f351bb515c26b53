from django.db import models


class ConfigurationItem(models.Model):
    """A configuration item (extended with classes and relationships by the CMDB issue)."""

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        IN_BUILD = "in_build", "In build"
        LIVE = "live", "Live"
        MAINTENANCE = "maintenance", "Maintenance"
        RETIRED = "retired", "Retired"

    name = models.CharField(max_length=200, unique=True)
    owner_team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="configuration_items",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.LIVE)

    class Meta:
        ordering = ["name"]
        verbose_name = "configuration item"

    def __str__(self):
        return self.name
