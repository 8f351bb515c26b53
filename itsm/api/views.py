from django.contrib.auth import authenticate
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import api_view
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from itsm.core import services as core
from itsm.core.models import Attachment

from . import tokens
from .models import ApiToken
from .parsers import JSONParser

# API tokens ----------------------------------------------------------------------------------


class ApiTokenSerializer(serializers.ModelSerializer):
    """A token as its owner sees it: never its secret."""

    status = serializers.CharField(read_only=True)

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "scopes",
            "status",
            "created_at",
            "expires_at",
            "last_used_at",
            "last_used_from",
            "revoked_at",
        ]
        read_only_fields = fields


class IssuedTokenSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True, help_text=_("The token: shown this once only."))

    class Meta(ApiTokenSerializer.Meta):
        fields = ["token", *ApiTokenSerializer.Meta.fields]
        read_only_fields = fields


class NewTokenSerializer(serializers.Serializer):
    name = serializers.CharField(
        max_length=100, help_text=_("What the token is for ('laptop', 'monitoring').")
    )
    scopes = serializers.ListField(
        child=serializers.CharField(max_length=60),
        max_length=100,
        help_text=_("read, write, or <practice>:read / <practice>:write (write implies read)."),
    )
    days = serializers.IntegerField(
        required=False, help_text=_("Days until it expires (default 90; at most the maximum).")
    )


class SignInSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
    name = serializers.CharField(
        max_length=100, required=False, help_text=_("Default: 'API sign-in' and the time.")
    )
    scopes = serializers.ListField(
        child=serializers.CharField(max_length=60),
        max_length=100,
        required=False,
        help_text=_("Default: write."),
    )
    days = serializers.IntegerField(required=False)
    otp = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=32,
        help_text=_(
            "A code from your authenticator app (or a recovery code): needed when "
            "two-factor sign-in is on for you."
        ),
    )


def issued(token, clear) -> dict:
    token.token = clear
    return IssuedTokenSerializer(token).data


class TokenView(APIView):
    """Trade a username and password for a new named API token (``{"token": "…"}``),
    which expires; the token is shown in this answer only."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    # One throttle for every sign-in: the lockout (itsm.accounts.lockout), per account and
    # per client address, shared by all workers; no per-process rate on top of it.
    throttle_classes = []
    parser_classes = [JSONParser, FormParser, MultiPartParser]
    serializer_class = SignInSerializer

    @extend_schema(request=SignInSerializer, responses={200: IssuedTokenSerializer})
    def post(self, request):
        serializer = SignInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = authenticate(request=request, username=data["username"], password=data["password"])
        if user is None or not user.is_active:
            raise serializers.ValidationError(
                {"non_field_errors": [gettext("Unable to log in with provided credentials.")]}
            )
        refused = self.second_factor_refused(request, user, data.get("otp", ""))
        if refused is not None:
            return refused
        name = data.get("name") or f"API sign-in {timezone.now():%Y-%m-%d %H:%M:%S}"
        token, clear = tokens.issue(
            user,
            name=name,
            scopes=data.get("scopes") or ["write"],
            days=data.get("days"),
            created_by=user,
            request=request,
        )
        return Response(issued(token, clear))  # 200, as DRF's token endpoint answered

    @staticmethod
    def second_factor_refused(request, user, code: str):
        """Someone with two-factor sign-in on gets a token only with a code too (the same
        check, and lockout count, as the sign-in page's second step); None: go on."""
        from itsm.accounts import lockout
        from itsm.accounts import services as accounts

        if not accounts.has_second_factor(user):
            return None
        username = user.get_username()
        if not lockout.attempt(request._request, username):
            return Response(
                {"detail": gettext("Too many failed attempts: try again later.")},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
            )
        if accounts.verify_second_factor(user, code) is None:
            lockout.failed(request._request, username)
            raise serializers.ValidationError(
                {
                    "otp": [
                        gettext(
                            "Two-factor sign-in is on for this account: a code from the "
                            "authenticator app (or a recovery code) is needed; this one is "
                            "missing, wrong or used already."
                        )
                    ]
                }
            )
        return None


class ApiTokenViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Your own API tokens: list them, make one (its secret is in that answer only),
    revoke one (``DELETE``)."""

    queryset = ApiToken.objects.all()
    serializer_class = ApiTokenSerializer
    pagination_class = None
    filter_backends = []
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_queryset(self):
        return super().get_queryset().filter(user=self.request.user)

    @extend_schema(request=NewTokenSerializer, responses={201: IssuedTokenSerializer})
    def create(self, request):
        serializer = NewTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        token, clear = tokens.issue(
            request.user,
            name=data["name"],
            scopes=data["scopes"],
            days=data.get("days"),
            created_by=request.user,
            request=request,
            made_with=request.auth if isinstance(request.auth, ApiToken) else None,
        )
        return Response(issued(token, clear), status=status.HTTP_201_CREATED)

    @extend_schema(summary="Revoke one of your tokens", responses={204: None})
    def destroy(self, request, pk=None):
        tokens.revoke(self.get_object(), by=request.user, request=request, reason="by its owner")
        return Response(status=status.HTTP_204_NO_CONTENT)


# Attachments ---------------------------------------------------------------------------------


@extend_schema(
    responses={(200, "application/octet-stream"): OpenApiResponse(description="The file")}
)
@api_view(["GET"])
def download_attachment(request, pk: int):
    """The file, if you may see the record it is attached to."""
    try:
        attachment = core.attachment_for_download(pk, request.user)
    except Attachment.DoesNotExist:
        raise Http404 from None
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.mime_type or "application/octet-stream",
    )
