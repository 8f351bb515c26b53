"""The base viewsets every tracked type's and record type's API stands on: scoping to the
user, ETags and If-Match, idempotent creation, and the journal, comments, links and
attachments sub-resources."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from itsm.core import etag
from itsm.core import services as core
from itsm.core.models import RecordLink

from .exceptions import PreconditionFailed
from .idempotency import idempotent
from .parsers import JSONParser
from .serializers import (
    AttachmentSerializer,
    CommentSerializer,
    JournalEntrySerializer,
    LinkSerializer,
)

IF_MATCH = OpenApiParameter(
    "If-Match", str, OpenApiParameter.HEADER, description="The ETag you read; 412 if stale."
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, description="Replays return the first answer."
)


class TrackedViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The base of every tracked type's API (CIs, assets, contracts, calendars…): the
    queryset scoped to the person (the model's ``visible_to``), the ETag on every answer
    about one row, ``If-Match`` on PATCH (412 when stale), ``Idempotency-Key`` on create,
    PATCH only (no PUT), and the row's ``timeline``. Subclasses set ``queryset``,
    ``serializer_class`` and ``filterset_class``; the serializer's ``create`` and
    ``update`` call the type's write path (``update`` receives ``expected_version``)."""

    http_method_names = ["get", "post", "patch", "head", "options"]
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    # ETag / If-Match ----------------------------------------------------------------

    def expected_version(self, obj) -> int | None:
        try:
            return etag.expected_version(self.request.headers.get("If-Match"), obj)
        except etag.BadETag:
            raise PreconditionFailed() from None

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        obj = getattr(self, "_etag_record", None)
        if obj is not None and response.status_code < 300 and "ETag" not in response:
            response["ETag"] = obj.etag
        return response

    def answer(self, obj, code=status.HTTP_200_OK) -> Response:
        """The row as the caller may now read it (re-read: what the write left), with its
        ETag."""
        fresh = self.get_queryset().get(pk=obj.pk)
        self._etag_record = fresh
        return Response(self.get_serializer(fresh).data, status=code, headers={"ETag": fresh.etag})

    def retrieve(self, request, *args, **kwargs):
        obj = self.get_object()
        self._etag_record = obj
        return Response(self.get_serializer(obj).data)

    @extend_schema(parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        obj = serializer.save()
        return self.answer(obj, status.HTTP_201_CREATED)

    @extend_schema(parameters=[IF_MATCH])
    def partial_update(self, request, *args, **kwargs):
        return self._write(request, partial=True)

    @extend_schema(parameters=[IF_MATCH])
    def update(self, request, *args, **kwargs):
        """PUT, where a type allows it (definitions replaced as a whole)."""
        if not kwargs.get("partial") and "put" not in self.http_method_names:
            return Response(
                {"detail": gettext("Use PATCH.")}, status=status.HTTP_405_METHOD_NOT_ALLOWED
            )
        return self._write(request, partial=kwargs.get("partial", False))

    def _write(self, request, partial: bool) -> Response:
        obj = self.get_object()
        expected = self.expected_version(obj)
        serializer = self.get_serializer(obj, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        obj = serializer.save(expected_version=expected)
        return self.answer(obj)

    @extend_schema(responses=JournalEntrySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def timeline(self, request, *args, **kwargs):
        """The row's journal as the caller may see it, oldest first (no internal entries
        for end users)."""
        obj = self.get_object()
        return Response(JournalEntrySerializer(core.timeline(obj, request.user), many=True).data)


class RecordViewSet(TrackedViewSet):
    """The base of every record type's API: what ``TrackedViewSet`` does, by number, and
    the journal's comments, links and attachments. Subclasses also set
    ``record_services`` (the app's services module: ``comment`` and ``attach``)."""

    lookup_field = "number"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    record_services = None

    # Journal ---------------------------------------------------------------------------

    @extend_schema(methods=["get"], responses=CommentSerializer(many=True))
    @extend_schema(
        methods=["post"],
        request=CommentSerializer,
        responses=CommentSerializer,
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def comments(self, request, number=None):
        """Public comments and, for staff, internal work notes."""
        if request.method == "POST":
            return self._add_comment(request)
        record = self.get_object()
        entries = core.timeline(record, request.user).filter(kind__in=["comment", "work_note"])
        return Response(CommentSerializer(entries, many=True).data)

    @idempotent
    def _add_comment(self, request):
        record = self.get_object()
        serializer = CommentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            entry = self.record_services.comment(
                record,
                request.user,
                serializer.validated_data["body"],
                serializer.validated_data["internal"],
            )
        return Response(CommentSerializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["get"], responses=LinkSerializer(many=True))
    @extend_schema(methods=["post"], request=LinkSerializer, responses=LinkSerializer)
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def links(self, request, number=None):
        """Links to other records (problems, changes, other incidents…). Staff add them."""
        record = self.get_object()
        if request.method == "POST":
            if not request.user.is_agent:
                raise PermissionDenied
            serializer = LinkSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            with transaction.atomic():
                target = core.find_record(serializer.validated_data["target"], request.user)
                link = core.link_records(
                    record, target, request.user, serializer.validated_data["kind"]
                )
            item = next(i for i in core.links_of(record, request.user) if i["link"].pk == link.pk)
            return Response(LinkSerializer(item).data, status=status.HTTP_201_CREATED)
        return Response(LinkSerializer(core.links_of(record, request.user), many=True).data)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"links/(?P<link_id>\d+)")
    def unlink(self, request, number=None, link_id=None):
        record = self.get_object()
        try:
            with transaction.atomic():
                core.unlink(record, int(link_id), request.user)
        except RecordLink.DoesNotExist:
            raise Http404 from None
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(methods=["get"], responses=AttachmentSerializer(many=True))
    @extend_schema(
        methods=["post"],
        request={"multipart/form-data": AttachmentSerializer},
        responses=AttachmentSerializer,
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def attachments(self, request, number=None):
        record = self.get_object()
        if request.method == "POST":
            serializer = AttachmentSerializer(data=request.data, context={"request": request})
            serializer.is_valid(raise_exception=True)
            attachment = self.record_services.attach(
                record,
                request.user,
                serializer.validated_data["file"],
                serializer.validated_data["internal"],
            )
            return Response(
                AttachmentSerializer(attachment, context={"request": request}).data,
                status=status.HTTP_201_CREATED,
            )
        items = core.attachments_of(record, request.user)
        return Response(AttachmentSerializer(items, many=True, context={"request": request}).data)
