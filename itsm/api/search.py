"""``/api/v1/search/`` and ``/api/v1/search/suggestions/``: what the caller may see, across
every registered kind (incidents, known errors, knowledge articles…)."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from itsm.api.serializers import Serializer
from itsm.core import search
from itsm.core.views import parse_id

MAX_LIMIT = 50


class HitSerializer(Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    id = serializers.IntegerField(source="obj.pk")
    number = serializers.CharField(source="obj.number", default=None, allow_null=True)
    title = serializers.CharField()
    state = serializers.CharField(help_text=_("The hit's state or status, as its reader names it."))
    summary = serializers.CharField()
    url = serializers.CharField()
    rank = serializers.FloatField()


class SearchResultSerializer(Serializer):
    query = serializers.CharField()
    results = HitSerializer(many=True)


def _query(request) -> str:
    text = (request.query_params.get("q") or "").strip()
    if not search.words(text):
        raise ValidationError({"q": _("Type at least one word.")})
    if len(text) > search.MAX_QUERY_LENGTH:
        raise ValidationError(
            {"q": gettext("At most %(count)s characters.") % {"count": search.MAX_QUERY_LENGTH}}
        )
    return text


def _limit(request, default: int) -> int:
    value = parse_id(request.query_params.get("limit", str(default)))
    if value is None or not 1 <= value <= MAX_LIMIT:
        raise ValidationError(
            {"limit": gettext("A whole number from 1 to %(max)s.") % {"max": MAX_LIMIT}}
        )
    return value


Q_PARAM = OpenApiParameter("q", OpenApiTypes.STR, required=True, description="Words to find.")
LIMIT_PARAM = OpenApiParameter("limit", OpenApiTypes.INT, description=f"1 to {MAX_LIMIT}.")


class SearchView(APIView):
    """Full-text search, ranked, over what the caller may see: end users find their own
    incidents (never a work note), published articles for employees and public known
    errors; staff find everything, CIs, assets and people included. ``kind`` narrows to
    one or more kinds (comma-separated: ``incidents``, ``requests``, ``tasks``,
    ``known_errors``, ``problems``, ``articles``, ``cis``, ``assets``, ``people``)."""

    @extend_schema(
        parameters=[
            Q_PARAM,
            LIMIT_PARAM,
            OpenApiParameter("kind", OpenApiTypes.STR, description="Kinds, comma-separated."),
        ],
        responses=SearchResultSerializer,
    )
    def get(self, request):
        text = _query(request)
        kinds = [k for k in (request.query_params.get("kind") or "").split(",") if k]
        known = {s.key for s in search.registry.sources}
        unknown = sorted(set(kinds) - known)
        if unknown:
            raise ValidationError(
                {
                    "kind": gettext("Unknown: %(unknown)s. Kinds: %(kinds)s.")
                    % {"unknown": ", ".join(unknown), "kinds": ", ".join(sorted(known))}
                }
            )
        hits = search.search(request.user, text, kinds=kinds or None, limit=_limit(request, 20))
        return Response(SearchResultSerializer({"query": text, "results": hits}).data)


class SuggestionsView(APIView):
    """What may already answer a title being typed (articles, known errors), the last word
    taken as a prefix: for "report an issue" forms."""

    @extend_schema(parameters=[Q_PARAM, LIMIT_PARAM], responses=SearchResultSerializer)
    def get(self, request):
        text = _query(request)
        hits = search.suggest(request.user, text, limit=_limit(request, 5))
        return Response(SearchResultSerializer({"query": text, "results": hits}).data)
