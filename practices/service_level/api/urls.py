from rest_framework.routers import SimpleRouter

from .definitions import AgreementViewSet, CalendarViewSet
from .views import TimerViewSet

router = SimpleRouter()
router.register("sla-timers", TimerViewSet, basename="sla-timer")
router.register("sla-agreements", AgreementViewSet, basename="sla-agreement")
router.register("business-calendars", CalendarViewSet, basename="business-calendar")

urlpatterns = router.urls
