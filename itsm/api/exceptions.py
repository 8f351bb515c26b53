from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from itsm.core.services import StaleVersion


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _("The record has changed since you read it; fetch it again.")
    default_code = "precondition_failed"


def exception_handler(exc, context):
    """Domain errors become clear HTTP answers: a Django ValidationError from a service is a
    400 naming the field, a stale version a 412."""
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, StaleVersion):
        response = Response(
            {"detail": str(exc), "current_version": exc.record.version},
            status=status.HTTP_412_PRECONDITION_FAILED,
        )
        response["ETag"] = exc.record.etag
        return response
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    return drf_exception_handler(exc, context)
