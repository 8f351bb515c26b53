"""``Idempotency-Key`` on POST: a replay by the same user returns the first answer."""

import hashlib
from functools import wraps

from django.db import IntegrityError, transaction
from django.http.request import RawPostDataException
from django.utils.translation import gettext
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from .models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADERS = ("Location", "ETag")


def _fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(request.path.encode())
    try:
        digest.update(request.body or b"")
    except RawPostDataException:  # a multipart body already read by the CSRF check
        digest.update(repr(sorted(request.POST.lists())).encode())
        digest.update(repr(sorted((k, f.name, f.size) for k, f in request.FILES.items())).encode())
    return digest.hexdigest()


def _replay(stored: IdempotencyKey, fingerprint: str) -> Response:
    if stored.fingerprint != fingerprint:
        return Response(
            {HEADER: gettext("This key was already used for a different request.")},
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    response = Response(stored.response_body, status=stored.status_code)
    response["Idempotent-Replayed"] = "true"
    for name, value in (stored.headers or {}).items():
        response[name] = value
    return response


def idempotent(method):
    """Decorate a DRF view method that creates something."""

    @wraps(method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if not key:
            return method(self, request, *args, **kwargs)
        if len(key) > 255:
            raise ValidationError({HEADER: gettext("At most 255 characters.")})
        fingerprint = _fingerprint(request)
        stored = IdempotencyKey.objects.filter(user=request.user, key=key).first()
        if stored is not None:
            return _replay(stored, fingerprint)
        try:
            with transaction.atomic():
                # Claim the key first: a concurrent retry waits here on the unique index
                # until this request commits, then replays its answer.
                stored = IdempotencyKey.objects.create(
                    user=request.user, key=key, fingerprint=fingerprint
                )
                response = method(self, request, *args, **kwargs)
                if response.status_code >= 300:
                    transaction.set_rollback(True)
                    return response
                stored.status_code = response.status_code
                stored.response_body = response.data
                stored.headers = {
                    name: response[name] for name in REPLAYED_HEADERS if name in response
                }
                stored.save(update_fields=["status_code", "response_body", "headers"])
                return response
        except IntegrityError:
            stored = IdempotencyKey.objects.get(user=request.user, key=key)
            return _replay(stored, fingerprint)

    return wrapper
