"""Live figures of knowledge management for the practice map."""

from datetime import timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import Article, Audience, Deflection
from .services import REVIEW_NOTICE


def knowledge_kpis() -> list[tuple[str, str]]:
    now = timezone.now()
    today = timezone.localdate()
    counts = Article.objects.readable().aggregate(
        published=Count("pk"),
        portal=Count("pk", filter=Q(audience=Audience.PORTAL)),
        review_due=Count("pk", filter=Q(review_date__lte=today + REVIEW_NOTICE)),
        yes=Sum("helpful_yes"),
        no=Sum("helpful_no"),
    )
    deflections = Deflection.objects.aggregate(
        total=Count("pk"), recent=Count("pk", filter=Q(created_at__gte=now - timedelta(days=30)))
    )
    yes, no = counts["yes"] or 0, counts["no"] or 0
    helpful = (
        gettext("%(percent)s %% of %(count)d answers")
        % {"percent": round(100 * yes / (yes + no)), "count": yes + no}
        if yes + no
        else "—"
    )
    return [
        (_("Articles published"), str(counts["published"])),
        (_("Published for employees"), str(counts["portal"])),
        (_("Helpful"), helpful),
        (_("Issues deflected (all time)"), str(deflections["total"])),
        (_("Issues deflected (30 days)"), str(deflections["recent"])),
        (_("Reviews due within 7 days or overdue"), str(counts["review_due"])),
    ]
