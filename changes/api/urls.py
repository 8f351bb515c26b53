from rest_framework.routers import SimpleRouter

from .approvals import ApprovalPolicyViewSet, CabMeetingViewSet, ChangeApprovalViewSet
from .risk import QuestionnaireViewSet, RiskRuleViewSet
from .schedule import ConflictViewSet, ScheduleWindowViewSet
from .views import ChangeModelViewSet, ChangeTaskViewSet, ChangeTemplateViewSet, ChangeViewSet

router = SimpleRouter()
router.register("changes", ChangeViewSet, basename="change")
router.register("change-tasks", ChangeTaskViewSet, basename="change-task")
router.register("change-models", ChangeModelViewSet, basename="change-model")
router.register("change-templates", ChangeTemplateViewSet, basename="change-template")
router.register("change-risk-rules", RiskRuleViewSet, basename="change-risk-rule")
router.register("change-questionnaires", QuestionnaireViewSet, basename="change-questionnaire")
router.register("change-windows", ScheduleWindowViewSet, basename="change-window")
router.register("change-conflicts", ConflictViewSet, basename="change-conflict")
router.register("approval-policies", ApprovalPolicyViewSet, basename="approval-policy")
router.register("change-approvals", ChangeApprovalViewSet, basename="change-approval")
router.register("cab-meetings", CabMeetingViewSet, basename="cab-meeting")

urlpatterns = router.urls
