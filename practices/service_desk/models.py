from django.conf import settings
from django.db import models
from django.utils import timezone


class SavedView(models.Model):
    """A queue filter an agent saved under a name (``list_key`` names the queue)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    list_key = models.CharField(max_length=40)
    name = models.CharField(max_length=80)
    query = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "list_key", "name"], name="unique_saved_view_name"
            )
        ]

    def __str__(self):
        return self.name
