from rest_framework import serializers

from catalogue import variables
from catalogue.models import CatalogueCategory, CatalogueItem, Variable


class CatalogueCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = CatalogueCategory
        fields = ["id", "name", "description", "order"]


class VariableSerializer(serializers.ModelSerializer):
    class Meta:
        model = Variable
        fields = [
            "name",
            "label",
            "type",
            "required",
            "default",
            "help_text",
            "choices",
            "show_when",
            "require_when",
            "order",
        ]


class CatalogueItemSerializer(serializers.ModelSerializer):
    category = serializers.CharField(source="category.name")
    variables = VariableSerializer(many=True)
    schema = serializers.SerializerMethodField(
        help_text="The item's form as JSON Schema (Draft 2020-12): build the form from it."
    )

    class Meta:
        model = CatalogueItem
        fields = [
            "id",
            "name",
            "short_description",
            "description",
            "category",
            "service",
            "expected_delivery",
            "cost",
            "variables",
            "schema",
        ]

    def get_schema(self, item) -> dict:
        return variables.json_schema(item, item.variables.all())


class AnswersSerializer(serializers.Serializer):
    variables = serializers.JSONField(help_text="Answers by variable name.")
