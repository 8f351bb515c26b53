"""The risk engine's API: risk rules and questionnaires (administrators write, staff
read), and a change's ``risk/`` (the explanation; answering its questionnaire)."""

from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from itsm.api.permissions import StaffReadAdministratorWrite
from itsm.api.serializers import CleanedModelSerializer

from .. import risk
from ..models import ChangeModel, Question, Questionnaire, RiskRule

# Rules -------------------------------------------------------------------------------------


class RiskRuleSerializer(CleanedModelSerializer):
    change_models = serializers.PrimaryKeyRelatedField(
        queryset=ChangeModel.objects.all(),
        many=True,
        required=False,
        help_text=_("Applies to changes of these models (none: every model)."),
    )
    conditions = serializers.JSONField(
        help_text=_(
            'All must hold: [{"fact": "lead_time_hours", "op": "lt", "value": 48}]; '
            "the facts and operators are listed at change-risk-rules/facts/."
        )
    )

    class Meta:
        model = RiskRule
        fields = [
            "id",
            "name",
            "order",
            "active",
            "conditions",
            "risk",
            "change_models",
            "description",
        ]
        read_only_fields = ["id"]


class FactSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    type = serializers.CharField()
    choices = serializers.ListField(child=serializers.CharField())
    help = serializers.CharField()
    operators = serializers.ListField(child=serializers.CharField())


@extend_schema_view(
    list=extend_schema(summary="List the risk rules, in the order they are tried"),
    create=extend_schema(summary="Add a risk rule (administrators)"),
    partial_update=extend_schema(summary="Change a risk rule (administrators)"),
)
class RiskRuleViewSet(viewsets.ModelViewSet):
    """Ordered risk conditions: the first active rule (of every model or of the change's)
    whose conditions all hold gives its risk."""

    queryset = RiskRule.objects.prefetch_related("change_models").order_by("order", "pk")
    serializer_class = RiskRuleSerializer
    permission_classes = [StaffReadAdministratorWrite]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    filterset_fields = ["active", "risk"]
    pagination_class = None

    @extend_schema(summary="The facts rules may test", responses=FactSerializer(many=True))
    @action(detail=False, methods=["get"])
    def facts(self, request):
        return Response(
            [
                {
                    "name": fact.name,
                    "label": fact.label,
                    "type": fact.type,
                    "choices": list(fact.choices),
                    "help": fact.help,
                    "operators": [
                        op for op, (_, types) in risk.OPERATORS.items() if fact.type in types
                    ],
                }
                for fact in risk.FACTS.values()
            ]
        )


# Questionnaires ------------------------------------------------------------------------------


class QuestionSerializer(CleanedModelSerializer):
    id = serializers.IntegerField(
        required=False, help_text=_("An existing question (kept and changed); none: a new one.")
    )
    choices = serializers.JSONField(
        help_text=_(
            'The answers and their weights: [{"value": "yes", "label": "Yes", "weight": 5}]'
        )
    )

    class Meta:
        model = Question
        fields = ["id", "order", "text", "help_text", "choices"]

    def validate_choices(self, value):
        if isinstance(value, list):
            values = [c.get("value") for c in value if isinstance(c, dict)]
            doubled = sorted({v for v in values if values.count(v) > 1 and isinstance(v, str)})
            if doubled:
                raise serializers.ValidationError(
                    gettext("Listed twice: %(values)s.") % {"values": ", ".join(doubled)}
                )
        return value


class QuestionnaireSerializer(CleanedModelSerializer):
    questions = QuestionSerializer(
        many=True,
        required=False,
        help_text=_("The whole list (on a change: those left out are removed, unless answered)."),
    )

    class Meta:
        model = Questionnaire
        fields = ["id", "name", "description", "moderate_from", "high_from", "active", "questions"]
        read_only_fields = ["id"]

    def validate(self, attrs):
        questions = attrs.pop("questions", None)
        attrs = super().validate(attrs)
        if questions is not None:
            attrs["questions"] = questions
        return attrs

    def _write_questions(self, questionnaire, questions):
        existing = {q.pk: q for q in questionnaire.questions.all()}
        kept = set()
        errors = {}
        for position, data in enumerate(questions):
            pk = data.pop("id", None)
            if pk is not None:
                if pk not in existing:
                    errors[str(position)] = gettext(
                        "Question %(question)s is not one of this questionnaire's."
                    ) % {"question": pk}
                    continue
                question = existing[pk]
                kept.add(pk)
            else:
                question = Question(questionnaire=questionnaire)
            for name, value in data.items():
                setattr(question, name, value)
            question.save()
        dropped = [q for pk, q in existing.items() if pk not in kept]
        answered = [q.text for q in dropped if q.answers.exists()]
        if answered:
            errors["removed"] = gettext(
                "Answered on changes, so kept: %(questions)s (list them, with their id)."
            ) % {"questions": ", ".join(answered)}
        if errors:
            raise serializers.ValidationError({"questions": errors})
        for question in dropped:
            question.delete()

    @transaction.atomic
    def create(self, validated_data):
        questions = validated_data.pop("questions", [])
        questionnaire = super().create(validated_data)
        self._write_questions(questionnaire, questions)
        return questionnaire

    @transaction.atomic
    def update(self, instance, validated_data):
        questions = validated_data.pop("questions", None)
        questionnaire = super().update(instance, validated_data)
        if questions is not None:
            self._write_questions(questionnaire, questions)
        return questionnaire


@extend_schema_view(
    list=extend_schema(summary="List the risk questionnaires"),
    create=extend_schema(summary="Add a risk questionnaire with its questions (administrators)"),
    partial_update=extend_schema(summary="Change a questionnaire (administrators)"),
)
class QuestionnaireViewSet(viewsets.ModelViewSet):
    """Risk assessments: weighted answers add up to a score; the thresholds give the risk.
    A change model names the questionnaire its changes answer."""

    queryset = Questionnaire.objects.prefetch_related("questions")
    serializer_class = QuestionnaireSerializer
    permission_classes = [StaffReadAdministratorWrite]
    http_method_names = ["get", "post", "patch", "head", "options"]
    filterset_fields = ["active"]
    ordering = ["name"]
    pagination_class = None


# A change's risk -------------------------------------------------------------------------------


class RiskAnswersSerializer(serializers.Serializer):
    answers = serializers.ListField(
        child=serializers.DictField(),
        help_text=_('[{"question": 1, "value": "yes"}]: they replace the earlier answers.'),
    )


class RiskExplanationSerializer(serializers.Serializer):
    risk = serializers.CharField()
    effective_risk = serializers.CharField()
    override = serializers.CharField(allow_null=True)
    override_reason = serializers.CharField()
    impact = serializers.CharField()
    probability = serializers.CharField()
    risk_score = serializers.IntegerField()
    calculated_at = serializers.DateTimeField(allow_null=True)
    rule = serializers.JSONField(allow_null=True, help_text=_("The rule that matched, if one did."))
    answers = serializers.JSONField(help_text=_("Each answer with its weight."))
    questionnaire = serializers.JSONField(allow_null=True, help_text=_("The score and its risk."))
    questions = serializers.JSONField(help_text=_("The questionnaire's questions and the answers."))
    matrix = serializers.JSONField(help_text=_("Probability, impact, the cell and why."))
    blast_radius = serializers.JSONField(help_text=_("Business services and CIs reached."))
    success = serializers.JSONField(help_text=_("The change success score of team and model."))
    facts = serializers.JSONField(help_text=_("Every fact with its value."))


class ChangeRiskMixin:
    """``changes/{number}/risk/`` on the change viewset."""

    def get_queryset(self):
        queryset = super().get_queryset()
        if getattr(self, "action", None) == "risk":
            # The explanation is stored on the change: none of its relations is read.
            queryset = queryset.prefetch_related(None)
        return queryset

    @extend_schema(
        methods=["GET"],
        summary="Why the change has its risk",
        request=None,
        responses=RiskExplanationSerializer,
    )
    @extend_schema(
        methods=["POST"],
        summary="Answer the change's risk questionnaire (recomputes the risk)",
        request=RiskAnswersSerializer,
        responses=RiskExplanationSerializer,
    )
    @action(detail=True, methods=["get", "post"], url_path="risk")
    def risk(self, request, number=None):
        change = self.get_object()
        if request.method == "POST":
            serializer = RiskAnswersSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            risk.answer(change, request.user, serializer.validated_data["answers"])
            change = self.get_queryset().get(pk=change.pk)
        return Response(risk.explain(change))
