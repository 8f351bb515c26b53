from django.db import models


class Service(models.Model):
    """A service as the service catalogue knows it (extended by the catalogue issue)."""

    class Status(models.TextChoices):
        PIPELINE = "pipeline", "Pipeline"
        LIVE = "live", "Live"
        RETIRED = "retired", "Retired"

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    owner_team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="services"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.LIVE)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name
