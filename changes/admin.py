"""Administrators define how changes are handled here: change models, risk rules and
questionnaires, approval policies, standard change templates, schedule windows and CAB
meetings. Changes themselves are worked in the workspace (where every write is checked
and journalled)."""

from django.contrib import admin
from django.utils.functional import lazy
from django.utils.html import format_html_join
from django.utils.translation import gettext

from itsm.core import admin as core_admin

from . import risk
from .models import (
    ApprovalLevel,
    ApprovalPolicy,
    CabMeeting,
    ChangeModel,
    ChangeTemplate,
    Question,
    Questionnaire,
    RiskRule,
    ScheduleWindow,
    TemplateTask,
)


@admin.register(ChangeModel)
class ChangeModelAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "approval_policy", "questionnaire", "lead_time_hours", "active")
    list_filter = ("kind", "active")
    search_fields = ("name",)


def _facts_help() -> str:
    rows = format_html_join(
        "",
        "<li><code>{}</code> ({}): {}</li>",
        ((f.name, f.type, f.label) for f in risk.FACTS.values()),
    )
    return gettext(
        'Conditions, all of which must hold: [{"fact": "lead_time_hours", "op": "lt", '
        '"value": 48}]. Operators: %(operators)s. Facts: %(facts)s'
    ) % {
        "operators": ", ".join(f"{op} ({label})" for op, (label, _types) in risk.OPERATORS.items()),
        "facts": f"<ul>{rows}</ul>",
    }


@admin.register(RiskRule)
class RiskRuleAdmin(admin.ModelAdmin):
    list_display = ("order", "name", "risk", "active")
    list_display_links = ("name",)
    list_filter = ("active", "risk", "change_models")
    search_fields = ("name",)
    filter_horizontal = ("change_models",)
    ordering = ("order", "pk")

    def get_fieldsets(self, request, obj=None):
        return (
            (None, {"fields": ("name", "order", "active", "risk", "change_models", "description")}),
            ("Conditions", {"fields": ("conditions",), "description": lazy(_facts_help, str)()}),
        )


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 1
    fields = ("order", "text", "help_text", "choices")


@admin.register(Questionnaire)
class QuestionnaireAdmin(admin.ModelAdmin):
    list_display = ("name", "moderate_from", "high_from", "active")
    list_filter = ("active",)
    search_fields = ("name",)
    inlines = [QuestionInline]


class ApprovalLevelInline(core_admin.ApprovalLevelInline):
    """The policy's levels: the kernel's, checked together (each level once, a team
    only where a team approves, someone in it)."""

    model = ApprovalLevel
    extra = 1
    fields = ("order", "kind", "mode", "team", "min_risk", "deadline_minutes")


@admin.register(ApprovalPolicy)
class ApprovalPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "active")
    list_filter = ("active",)
    search_fields = ("name",)
    inlines = [ApprovalLevelInline]


class TemplateTaskInline(admin.TabularInline):
    model = TemplateTask
    extra = 1
    fields = ("stage", "title", "team")


@admin.register(ChangeTemplate)
class ChangeTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "status", "model", "category", "assignment_group")
    list_filter = ("status", "model", "category")
    search_fields = ("name",)
    readonly_fields = ("proposed_by", "reviewed_by", "reviewed_at", "created_at")
    inlines = [TemplateTaskInline]


@admin.register(ScheduleWindow)
class ScheduleWindowAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "starts_at", "ends_at", "rrule", "time_zone", "active")
    list_filter = ("kind", "active")
    search_fields = ("name",)
    filter_horizontal = ("ci_classes", "services")
    raw_id_fields = ("incident", "configuration_items")
    readonly_fields = ("created_by", "created_at")


@admin.register(CabMeeting)
class CabMeetingAdmin(admin.ModelAdmin):
    list_display = ("title", "starts_at", "ends_at", "status", "chair")
    list_filter = ("status",)
    search_fields = ("title",)
    filter_horizontal = ("members",)
    readonly_fields = ("minutes_sent_at", "created_at")
