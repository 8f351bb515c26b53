"""Screens of knowledge management: the workspace's article list, review queue, article
page, editor and version differences, and the portal's knowledge home and article page.
Views stay thin: every write goes through ``services``; who reads what is
``Article.objects.visible_to``."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from itsm.accounts.decorators import agent_required
from itsm.api.screens import Column, Form, RecordScreens
from itsm.core import services as core
from itsm.core.search import search
from itsm.core.services import StaleVersion
from itsm.core.views import add_errors, error_text, is_htmx, posted_version

from . import services
from .api.serializers import ArticleSerializer, TransitionSerializer
from .filters import ORDERING_FIELDS, ArticleFilterSet
from .forms import ArticleForm, FeedbackForm
from .models import Article, ArticleFeedback, ArticleVersion, Audience, KnowledgeCategory
from .panels import popular
from .rendering import diff_rows, render_markdown, unified_diff
from .workflows import ArticleState

#: How another record links to an article (the record is resolved by it, or relates to it).
LINK_KINDS = [
    ("resolved_by", _("resolves (record resolved by this)")),
    ("relates_to", _("relates to")),
]

PORTAL_RESULTS = 20


def _articles(user):
    return Article.objects.visible_to(user).select_related("category", "owner")


def _get(user, number) -> Article:
    return get_object_or_404(
        _articles(user).select_related("assignment_group", "published_by", "submitted_by"),
        number=number,
    )


# Workspace ---------------------------------------------------------------------------------


@agent_required
def review_queue(request):
    queue = services.review_queue(request.user).select_related(
        "category", "owner", "submitted_by", "assignment_group"
    )
    articles = list(queue.order_by("updated_at", "pk")[:200])
    return render(
        request,
        "knowledge/review_queue.html",
        {"articles": articles, "review_count": len(articles)},
    )


class ArticleScreens(RecordScreens):
    """The article's page in the workspace and what is done on it (the kernel's record
    screens): notes, files, links to the records it helps with, and its lifecycle
    (a transition carries a note; "Revise" opens the editor on the new draft)."""

    queryset = Article.objects.select_related(
        "category", "owner", "assignment_group", "published_by", "submitted_by"
    )
    serializer_class = ArticleSerializer
    record_services = services
    page_template = "knowledge/detail.html"
    context_object_name = "article"
    comment_messages = (_("Note added."), _("Note added."))
    create_template = "knowledge/form.html"
    create_form = ArticleForm
    filterset_class = ArticleFilterSet
    ordering_fields = ORDERING_FIELDS
    default_ordering = "-updated_at"
    list_template = "knowledge/list.html"
    rows_template = "knowledge/_rows.html"
    rows_name = "articles"
    empty_text = _("No articles match.")
    columns = (
        Column(_("Number"), "number"),
        Column(_("Title"), "title"),
        Column(_("State"), "state"),
        Column(_("Audience")),
        Column(_("Category")),
        Column(_("Owner")),
        Column(_("Published")),
        Column(_("Review")),
        Column(_("Views"), "views"),
        Column(_("Helpful")),
        Column(_("Updated"), "updated_at"),
    )
    edit = None  # the editor is a page of its own (``edit`` below)

    def create_initial(self) -> dict:
        """Written from an incident or a known error (``?from=INC…``): prefilled from it."""
        source = self.request.GET.get("from", "")
        if not source:
            return {}
        try:
            return services.prefill_from(source, self.request.user)
        except ValidationError as error:
            messages.error(self.request, error_text(error))
            return {}

    def create_context(self, form) -> dict:
        if form.is_bound:
            created_from = self.request.data.get("created_from", "")
        else:
            created_from = form.initial.get("created_from", "")
        return {"form": form, "created_from": created_from}

    def create_message(self, obj) -> str:
        return gettext("%(number)s saved as a draft.") % {"number": obj.number}

    def list_queryset(self):
        return Article.objects.visible_to(self.request.user).select_related("category", "owner")

    def list_context(self, params, links=None, **declared):
        context = super().list_context(params, links, **declared)
        if not is_htmx(self.request):
            context.update(
                {
                    "categories": KnowledgeCategory.objects.all(),
                    "states": ArticleState.choices,
                    "audiences": Audience.choices,
                    "review_count": services.review_queue(self.request.user).count(),
                }
            )
        return context

    def retrieve(self, request, *args, **kwargs):
        article = self.get_object()
        if not is_htmx(request):
            services.record_view(article)
        return self.page(article)

    def page_context(self, record, **extra):
        versions = list(
            ArticleVersion.objects.filter(article=record)
            .select_related("published_by")
            .defer("body", "summary", "keywords")
            .order_by("-number")
        )
        feedback = ArticleFeedback.objects.filter(article=record).select_related("user")
        return super().page_context(
            record,
            body_html=render_markdown(record.body),
            published_html=render_markdown(record.published_body)
            if record.has_unpublished_changes
            else None,
            versions=versions,
            feedback=list(feedback[:10]),
            deflections=record.deflections.count(),
            feedback_form=FeedbackForm(),
            my_feedback=feedback.filter(user=self.request.user).first(),
            review_due=record.review_due(),
            link_kinds=LINK_KINDS,
            **extra,
        )

    def transition_form(self, record, data):
        return Form(TransitionSerializer(data=self.request.data), data=self.request.data)

    def transition_save(self, record, form):
        return services.transition(
            record,
            self.request.user,
            self.request.data.get("state", ""),
            self.version(),
            form.validated_data.get("note", ""),
        )

    def after_transition(self, record):
        if self.request.data.get("then") == "edit" and record.state == ArticleState.DRAFT:
            messages.success(
                self.request,
                gettext(
                    "Revising %(number)s: readers keep version %(version)s until you publish again."
                )
                % {"number": record.number, "version": record.published_number},
            )
            return redirect("knowledge:edit", number=record.number)
        return super().after_transition(record)

    def transition_message(self, record) -> str:
        return gettext("%(number)s is now %(state)s.") % {
            "number": record.number,
            "state": services.state_word(record.state),
        }

    def link_message(self, record, target) -> str:
        return gettext("Linked %(number)s to %(target)s.") % {
            "number": record.number,
            "target": target.number,
        }

    def link_records(self, record, target, kind):
        """The other record links to the article (an incident resolved by it…)."""
        services.link(target, record, self.request.user, kind)


@agent_required
def edit(request, number):
    article = _get(request.user, number)
    if article.state == ArticleState.RETIRED:
        messages.error(
            request,
            gettext("%(number)s is retired; it can no longer change.") % {"number": article.number},
        )
        return redirect("knowledge:detail", number=number)
    form = ArticleForm(request.POST or None, instance=_get(request.user, number))
    conflict = False
    if request.method == "POST" and form.is_valid():
        try:
            services.update_article(article, request.user, form.values(), posted_version(request))
        except StaleVersion as stale:
            conflict = True
            article = stale.record
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, gettext("%(number)s saved.") % {"number": article.number})
            return redirect("knowledge:detail", number=number)
    status = 409 if conflict else 400 if form.errors else 200
    return render(
        request,
        "knowledge/form.html",
        {"form": form, "article": article, "conflict": conflict},
        status=status,
    )


@agent_required
@require_POST
def preview(request):
    """The Markdown of the editor, rendered as readers will see it (htmx)."""
    return render(
        request,
        "knowledge/_preview.html",
        {"html": render_markdown(request.POST.get("body", "")[: services.MAX_BODY])},
    )


def _text_of(article, versions: dict, key: str):
    """(label, title, body) of a version number, or of the working copy ("draft")."""
    if key == "draft":
        return gettext("Working copy"), article.title, article.body
    version = versions.get(key)
    if version is None:
        raise Http404
    return gettext("Version %(number)s") % {"number": version.number}, version.title, version.body


@agent_required
def diff(request, number):
    article = _get(request.user, number)
    versions = {
        str(v.number): v
        for v in ArticleVersion.objects.filter(article=article).select_related("published_by")
    }
    newest = max((int(n) for n in versions), default=None)
    default_b = "draft" if article.has_unpublished_changes or newest is None else str(newest)
    default_a = (
        str(newest - 1)
        if default_b != "draft" and newest and newest > 1
        else (str(newest) if newest else "draft")
    )
    a_key = request.GET.get("a") or default_a
    b_key = request.GET.get("b") or default_b
    a_label, a_title, a_body = _text_of(article, versions, a_key)
    b_label, b_title, b_body = _text_of(article, versions, b_key)
    context = {
        "article": article,
        "versions": sorted(versions.values(), key=lambda v: -v.number),
        "a": a_key,
        "b": b_key,
        "a_label": a_label,
        "b_label": b_label,
        "title_changed": a_title != b_title,
        "a_title": a_title,
        "b_title": b_title,
        "rows": diff_rows(a_body, b_body),
        "unified": unified_diff(a_body, b_body, a_label, b_label),
        "view": request.GET.get("view", "side"),
    }
    return render(request, "knowledge/diff.html", context)


@login_required
@require_POST
def feedback(request, number, screen="portal"):
    if screen == "workspace" and not request.user.is_agent:
        raise Http404
    readable = Article.objects.visible_to(request.user)
    if screen == "portal":
        readable = readable.for_portal()
    article = get_object_or_404(readable, number=number)
    form = FeedbackForm(request.POST)
    target = "knowledge:detail" if screen == "workspace" else "knowledge:portal-article"
    if not form.is_valid():
        messages.error(request, _("Answer yes or no."))
        return redirect(target, number=number)
    try:
        services.give_feedback(
            article, request.user, form.cleaned_data["helpful"], form.cleaned_data["comment"]
        )
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, _("Thanks for your feedback."))
    return redirect(target, number=number)


# Portal ------------------------------------------------------------------------------------


def _readable(user):
    """Articles this user reads on the portal: published, for employees."""
    return Article.objects.visible_to(user).for_portal()


@login_required
def portal_home(request):
    query = request.GET.get("q", "").strip()[:200]
    category_id = request.GET.get("category", "")
    categories = list(
        KnowledgeCategory.objects.filter(active=True)
        .annotate(count=Count("articles", filter=Q(articles__in=_readable(request.user))))
        .filter(count__gt=0)
    )
    category = next((c for c in categories if str(c.pk) == category_id), None)
    results = []
    if query:
        results = list(search(request.user, query, kinds=["articles"], limit=PORTAL_RESULTS))
    in_category = []
    if category is not None:
        in_category = list(
            _readable(request.user)
            .filter(category=category)
            .only("pk", "number", "published_title", "published_summary", "published_body")
            .order_by("-views", "published_title")[:100]
        )
    return render(
        request,
        "knowledge/portal_home.html",
        {
            "query": query,
            "results": results,
            "categories": categories,
            "category": category,
            "in_category": in_category,
            "popular": [] if query or category else list(popular(request.user, 6)),
        },
    )


@login_required
def portal_article(request, number):
    article = get_object_or_404(_readable(request.user).select_related("category"), number=number)
    services.record_view(article)
    from_report = request.GET.get("from") == "report"
    return render(
        request,
        "knowledge/portal_article.html",
        {
            "article": article,
            "body_html": render_markdown(article.published_body),
            "attachments": core.attachments_of(article, request.user),
            "from_report": from_report,
            "query": request.GET.get("q", "")[:200],
            "continue_url": reverse("incidents:portal-report")
            + "?"
            + urlencode({"title": request.GET.get("q", "")[:200]}),
            "feedback_form": FeedbackForm(),
            "my_feedback": ArticleFeedback.objects.filter(
                article=article, user=request.user
            ).first(),
        },
    )


@login_required
@require_POST
def portal_deflect(request, number):
    """ "Yes, I don't need to report it": the article answered the issue being reported."""
    article = get_object_or_404(_readable(request.user), number=number)
    try:
        services.deflect(article, request.user, request.POST.get("q", ""))
    except PermissionDenied:
        raise Http404 from None
    messages.success(request, _("Glad it helped! Thanks for letting us know."))
    return redirect("portal-home")
