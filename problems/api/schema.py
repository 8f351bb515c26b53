"""OpenAPI: impact and probability share one named enum, ``ProblemRisk`` (incidents have
their own numeric ``impact``; one component avoids a name collision)."""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension

from problems.models import Risk


class RiskFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "problems.api.serializers.RiskField"

    def get_name(self):
        return "ProblemRisk"

    def map_serializer_field(self, auto_schema, direction):
        return {
            "type": "string",
            "enum": Risk.values,
            "description": "Risk level: " + ", ".join(Risk.values) + ".",
        }
