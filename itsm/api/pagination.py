from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from itsm.core.pagination import paginate


class KeysetPagination(BasePagination):
    """``{"next": url|null, "results": [...]}`` with a keyset cursor (see core.pagination)."""

    cursor_query_param = "cursor"
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            raise DRFValidationError({"page_size": _("A whole number, please.")}) from None
        if not 1 <= size <= self.max_page_size:
            raise DRFValidationError(
                {"page_size": gettext("Between 1 and %(max)s.") % {"max": self.max_page_size}}
            )
        return size

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        try:
            rows, self.next_cursor = paginate(
                queryset,
                request.query_params.get(self.cursor_query_param),
                self.get_page_size(request),
            )
        except ValidationError as exc:
            raise DRFValidationError(exc.message_dict) from None
        return rows

    def get_next_link(self):
        if not self.next_cursor:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, self.next_cursor)

    def get_paginated_response(self, data):
        return Response({"next": self.get_next_link(), "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "The cursor of the next page (from `next`).",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Results per page (1 to {self.max_page_size}).",
                "schema": {"type": "integer"},
            },
        ]
