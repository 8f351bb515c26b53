from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from changes.models import Change
from cmdb.models import ConfigurationItem
from itsm.accounts.models import Team
from itsm.api.serializers import AllowedStatesField, ModelSerializer, UsernameField
from itsm.core.markdown import render_markdown

from .. import services
from ..models import Release


class ReleaseSerializer(ModelSerializer):
    release_manager = UsernameField(required=False, allow_null=True)
    assigned_to = UsernameField(required=False, allow_null=True)
    assignment_group = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True
    )
    configuration_items = serializers.PrimaryKeyRelatedField(
        queryset=ConfigurationItem.objects.all(), many=True, required=False
    )
    changes = serializers.SlugRelatedField(
        slug_field="number",
        queryset=Change.objects.all(),
        many=True,
        required=False,
        help_text=_("The changes the release carries, by number (PATCH replaces the list)."),
        error_messages={"does_not_exist": _("There is no change {value}.")},
    )
    release_notes_html = serializers.SerializerMethodField(
        help_text=_("The release notes rendered from Markdown and sanitised.")
    )
    allowed_states = AllowedStatesField(help_text=_("The states you may move this release to now."))

    class Meta:
        model = Release
        fields = [
            "number",
            "title",
            "description",
            "release_version",
            "release_type",
            "state",
            "allowed_states",
            "release_manager",
            "assignment_group",
            "assigned_to",
            "configuration_items",
            "changes",
            "release_notes",
            "release_notes_html",
            "planned_start",
            "planned_end",
            "actual_start",
            "actual_end",
            "closure_notes",
            "created_at",
            "updated_at",
            "closed_at",
            "version",
        ]
        read_only_fields = ["number", "created_at", "updated_at", "closed_at", "version"]

    def get_release_notes_html(self, release) -> str:
        return str(render_markdown(release.release_notes))

    def validate(self, attrs):
        if self.instance is None and "state" in self.initial_data:
            raise serializers.ValidationError(
                {"state": gettext("A new release starts in planning.")}
            )
        return attrs

    def create(self, validated_data):
        return services.open_release(self.context["request"].user, validated_data)

    def update(self, instance, validated_data):
        expected_version = validated_data.pop("expected_version", None)
        return services.update_release(
            instance, self.context["request"].user, validated_data, expected_version
        )
