"""``/api/v1/lookups/<kind>/?q=``: the rows a reference field may offer, found by typing
(the pickers of the workspace's forms and filters call it as you type); and
``/api/v1/lookups/people/<username>/card/``: a person's contact card, for staff.

A lookup lists only what the person may see: the same rows as the field's choices
(``itsm.core.lookups``), narrowed by the model's ``visible_to``; an employee asking for
people finds only themselves, and no team or CI at all."""

from django.http import Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer, TemplateHTMLRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from itsm.accounts.models import User
from itsm.core import lookups

from .permissions import IsAgent
from .serializers import Serializer

ID_MAX = 2**63 - 1


class LookupItemSerializer(Serializer):
    value = serializers.CharField(help_text=_("What the field takes: an id, or a username."))
    label = serializers.CharField()
    detail = serializers.CharField(help_text=_("A second line: e-mail and organization, teams…"))
    badge = serializers.CharField(help_text=_('A flag worth seeing at once ("VIP"), or "".'))
    data = serializers.DictField(
        child=serializers.CharField(),
        help_text=_("The narrowing parameters this row matches, e.g. its teams' ids."),
    )


class LookupAnswerSerializer(Serializer):
    results = LookupItemSerializer(many=True)
    more = serializers.BooleanField(help_text=_("More rows match: type more to narrow."))


class LookupQuerySerializer(Serializer):
    q = serializers.CharField(
        required=False, allow_blank=True, max_length=lookups.MAX_TERM, default=""
    )
    limit = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=lookups.MAX_RESULTS,
        default=lookups.DEFAULT_RESULTS,
    )


def _parse(lookup: lookups.Lookup, query_params) -> tuple[str, int, dict]:
    """The term, the limit and the narrowing parameters, or a 400 naming the bad one."""
    fields = {name: query_params[name] for name in ("q", "limit") if name in query_params}
    query = LookupQuerySerializer(data=fields)
    errors = {} if query.is_valid() else dict(query.errors)
    params = {}
    for name in lookup.params:
        raw = query_params.get(name, "")
        if raw == "":
            continue
        if not (raw.isascii() and raw.isdigit()) or int(raw) > ID_MAX:
            errors[name] = [gettext("An id (a whole number), not %(value)r.") % {"value": raw[:20]}]
        else:
            params[name] = int(raw)
    if errors:
        raise ValidationError(errors)
    return query.validated_data["q"].strip(), query.validated_data["limit"], params


class LookupView(APIView):
    """Rows of one kind the caller may pick, matching every word of ``q`` (name, e-mail…;
    an empty ``q`` lists the first rows). Kinds: ``people``, ``agents`` (narrowed by
    ``team``: its members), ``teams``, ``categories``, ``subcategories`` (narrowed by
    ``parent``: a category's), ``any-categories``, ``services``, ``cis``, ``locations``.
    Only rows the caller may see are listed."""

    @extend_schema(
        operation_id="lookups_list",
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, description="Words to match."),
            OpenApiParameter(
                "limit",
                OpenApiTypes.INT,
                description=f"1 to {lookups.MAX_RESULTS} (default {lookups.DEFAULT_RESULTS}).",
            ),
            OpenApiParameter("team", OpenApiTypes.INT, description="agents: a team's members."),
            OpenApiParameter(
                "parent", OpenApiTypes.INT, description="subcategories: a category's."
            ),
        ],
        responses=LookupAnswerSerializer,
    )
    def get(self, request, kind):
        lookup = lookups.get(kind)
        if lookup is None:
            raise Http404
        term, limit, params = _parse(lookup, request.query_params)
        rows, more = lookup.find(request.user, term, params, limit)
        return Response({"results": [lookup.item(row) for row in rows], "more": more})


class CountSerializer(Serializer):
    label = serializers.CharField()
    count = serializers.IntegerField()
    url = serializers.CharField()


class ContactCardSerializer(Serializer):
    username = serializers.CharField()
    name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()
    organization = serializers.CharField(allow_null=True)
    location = serializers.CharField(allow_null=True)
    teams = serializers.ListField(child=serializers.CharField())
    vip = serializers.BooleanField()
    active = serializers.BooleanField()
    counts = CountSerializer(many=True, help_text=_("Their open incidents…"))


class ContactCardView(APIView):
    """A person's contact card, for staff: name, e-mail, phone, organization, location,
    teams, VIP, and their open records. JSON, or the card's HTML fragment to a browser
    (``Accept: text/html``)."""

    permission_classes = [IsAgent]
    renderer_classes = [JSONRenderer, TemplateHTMLRenderer]

    @extend_schema(operation_id="lookups_people_card", responses=ContactCardSerializer)
    def get(self, request, username):
        person = (
            User.objects.visible_to(request.user)
            .select_related("organization", "location")
            .prefetch_related("teams")
            .filter(username=username)
            .first()
        )
        if person is None:
            raise Http404
        card = {
            "username": person.username,
            "name": person.get_full_name() or person.username,
            "email": person.email,
            "phone": person.phone,
            "organization": getattr(person.organization, "name", None),
            "location": getattr(person.location, "name", None),
            "teams": [team.name for team in person.teams.all()],
            "vip": person.vip,
            "active": person.is_active,
            "counts": [
                {"label": c.label, "count": c.count(person, request.user), "url": c.url(person)}
                for c in lookups.person_counts()
            ],
        }
        return Response(
            ContactCardSerializer(card).data, template_name="workspace/_contact_card.html"
        )
