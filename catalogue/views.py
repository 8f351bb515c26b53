"""The portal's request catalogue: browse and order items, follow one's requests, and decide
approvals. Every change goes through ``catalogue.services``."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from rest_framework.decorators import action

from itsm.api.screens import RecordScreens
from itsm.core import services as core
from itsm.core.models import JournalEntry
from itsm.core.practices import PortalAction, Waiting
from itsm.core.views import error_text, parse_id

from . import services
from . import variables as rules
from .api.serializers import ServiceRequestSerializer
from .forms import REQUESTED_FOR, DecisionForm, OrderForm
from .models import Approval, CatalogueItem, ServiceRequest
from .workflows import RequestState

R = RequestState
#: The progress line of a request, in order.
STEPS = [
    ("submitted", _("Submitted")),
    ("approval", _("Approval")),
    ("fulfilment", _("Fulfilment")),
    ("fulfilled", _("Fulfilled")),
]
STEP_OF_STATE = {
    R.SUBMITTED: 0,
    R.AWAITING_APPROVAL: 1,
    R.REJECTED: 1,
    R.APPROVED: 2,
    R.IN_FULFILMENT: 2,
    R.FULFILLED: 3,
    R.CLOSED: 3,
}


def _orderable(user):
    return CatalogueItem.objects.orderable_by(user)


def search_items(user, query: str):
    items = _orderable(user).select_related("category")
    query = (query or "").strip()
    if query:
        items = items.filter(Q(name__icontains=query) | Q(short_description__icontains=query))
    return items


def popular_items(user, limit: int = 6):
    """The orderable items ordered most often (then by catalogue order)."""
    ids = _orderable(user).values("pk")
    return list(
        CatalogueItem.objects.filter(pk__in=ids)
        .select_related("category")
        .annotate(times=Count("requests"))
        .order_by("-times", "category__order", "order", "name")[:limit]
    )


def home_panel(request) -> dict:
    """What the portal home shows of the catalogue (registered as a portal panel): popular
    items and the categories, from one query over the orderable items (the approvals
    waiting for this user are listed under "waiting for you": ``approvals_waiting``)."""
    user = request.user
    items = list(
        CatalogueItem.objects.filter(pk__in=_orderable(user).values("pk"))
        .select_related("category")
        .only("name", "short_description", "order", "category__name", "category__order")
        .annotate(times=Count("requests"))
        .order_by("category__order", "category__name", "order", "name")
    )
    categories: dict = {}
    for item in items:
        categories.setdefault(item.category, []).append(item)
    for category, its in categories.items():
        category.count = len(its)
    return {
        "popular": sorted(items, key=lambda i: -i.times)[:6],
        "categories": list(categories),
    }


@login_required
def catalogue(request):
    query = request.GET.get("q", "").strip()
    category_id = parse_id(request.GET.get("category", ""))
    items = search_items(request.user, query)
    if category_id is not None:
        items = items.filter(category_id=category_id)
    groups: dict = {}
    for item in items:
        groups.setdefault(item.category, []).append(item)
    return render(
        request,
        "catalogue/portal_catalogue.html",
        {
            "query": query,
            "groups": [{"category": c, "items": its} for c, its in groups.items()],
            "popular": [] if query or category_id else popular_items(request.user),
            "category_id": category_id,
        },
    )


@login_required
def item(request, pk: int):
    item = get_object_or_404(_orderable(request.user).select_related("category"), pk=pk)
    variables = list(item.variables.all())
    data = request.POST if request.method == "POST" else None
    files = request.FILES if request.method == "POST" else None
    form = OrderForm(item, variables, data, files, user=request.user)
    if request.method == "POST":
        valid = form.is_valid()
        answers = form.answers()
        requested_for = None
        username = form.cleaned_data.get(REQUESTED_FOR, "").strip() if valid else ""
        if username:
            requested_for = (
                get_user_model().objects.filter(username=username, is_active=True).first()
            )
            if requested_for is None:
                form.add_error(
                    REQUESTED_FOR,
                    gettext("There is no active user %(username)s.") % {"username": username},
                )
        try:
            if form.errors:
                # Still run the server's check so that every problem is named at once.
                rules.validate(item, answers, request.user)
            else:
                created = services.submit_request(
                    request.user,
                    item,
                    answers,
                    requested_for=requested_for,
                    files=form.attachment_files(),
                )
        except ValidationError as error:
            form.add_service_errors(error)
        if not form.errors:
            messages.success(
                request,
                gettext("Thanks, your request %(number)s for %(item)s is in.")
                % {"number": created.number, "item": item.name},
            )
            return redirect("catalogue:request", number=created.number)
    return render(
        request,
        "catalogue/portal_item.html",
        {"item": item, "form": form},
        status=400 if form.errors else 200,
    )


def _mine(user):
    """A requester's or requested-for person's own requests (the portal shows no others)."""
    if not user.is_authenticated:
        return ServiceRequest.objects.none()
    return ServiceRequest.objects.visible_to(user).filter(Q(requester=user) | Q(requested_for=user))


def my_requests(user):
    return _mine(user).order_by("-created_at")


def portal_waiting(req: ServiceRequest) -> Waiting | None:
    """A fulfilled request waits for its requester to confirm it (their portal home lists
    it first)."""
    if req.state != R.FULFILLED:
        return None
    close = reverse("catalogue:request-close", args=[req.number])
    return Waiting(
        gettext("Delivered: please confirm"),
        (
            PortalAction(gettext("Yes, I have it"), close, post={}, primary=True),
            PortalAction(
                gettext("Something is missing"), reverse("catalogue:request", args=[req.number])
            ),
        ),
    )


def approvals_waiting(user) -> list[Waiting]:
    """The approvals waiting for ``user``, for the portal home's "waiting for you"."""
    page = reverse("catalogue:approvals")
    rows = []
    for approval in services.pending_approvals(user).order_by("created_at", "pk"):
        req = approval.request
        person = req.requested_for.get_full_name() or req.requested_for.username
        rows.append(
            Waiting(
                gettext("Approval needed"),
                (
                    PortalAction(
                        gettext("Review and decide"), f"{page}#ap-{approval.pk}", primary=True
                    ),
                ),
                number=req.number,
                title=gettext("%(item)s for %(person)s")
                % {"item": req.item.name, "person": person},
                url=f"{page}#ap-{approval.pk}",
                kind=gettext("Approval"),
            )
        )
    return rows


def _progress(req: ServiceRequest, has_approvals: bool) -> list[dict]:
    current = STEP_OF_STATE.get(req.state)
    steps = []
    for index, (key, label) in enumerate(STEPS):
        if req.state == R.CANCELLED or current is None:
            status = "cancelled" if key != "submitted" else "done"
        elif index < current or (index == current and req.state in (R.FULFILLED, R.CLOSED)):
            status = "done"
        elif index == current:
            status = "failed" if req.state == R.REJECTED else "current"
        else:
            status = "todo"
        if key == "approval" and not has_approvals and status == "done":
            label = _("No approval needed")
        steps.append({"key": key, "label": label, "status": status})
    return steps


class RequestScreens(RecordScreens):
    """A service request on the portal (its requester's, or the person it is for): the
    progress, answers, approvals and tasks, the public conversation and files, and
    cancelling or confirming it (the kernel's record screens)."""

    audience = "portal"
    queryset = ServiceRequest.objects.select_related(
        "item__category", "requester", "requested_for", "assignment_group", "assigned_to"
    )
    serializer_class = ServiceRequestSerializer
    record_services = services
    page_template = "catalogue/portal_request.html"
    context_object_name = "req"
    portal_url_name = "catalogue:request"
    comment_messages = (_("Your comment was added."), _("Your comment was added."))
    attach_message = _("Your file was attached.")
    transition = link = unlink = edit = None  # cancelling and closing are below

    def get_queryset(self):
        """The requester's or requested-for person's own (staff too: the portal is theirs
        as requesters)."""
        user = self.request.user
        return super().get_queryset().filter(Q(requester=user) | Q(requested_for=user))

    def page_context(self, record, **extra):
        approvals = list(record.approvals.select_related("approver").order_by("level", "pk"))
        actions = {t.target for t in record.workflow.available(record, self.request.user)}
        return super().page_context(
            record,
            answers=rules.display_answers(record),
            steps=_progress(record, bool(approvals)),
            approvals=approvals,
            tasks=list(record.tasks.select_related("assignment_group").order_by("stage", "pk")),
            timeline=core.timeline(record, self.request.user)
            .filter(internal=False)
            .exclude(kind=JournalEntry.Kind.NOTIFICATION),
            attachments=core.attachments_of(record, self.request.user).filter(internal=False),
            can_cancel=R.CANCELLED in actions,
            can_close=R.CLOSED in actions,
            open=record.state not in (R.CLOSED, R.CANCELLED, R.REJECTED),
            **extra,
        )

    @action(detail=True, methods=["post"])
    def cancel(self, request, number=None):
        req = self.get_object()
        try:
            services.cancel_request(req, request.user, request.data.get("reason", "").strip())
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, error_text(error))
            return self.back(req)
        return self.done(req, gettext("%(number)s is cancelled.") % {"number": req.number})

    @action(detail=True, methods=["post"])
    def close(self, request, number=None):
        req = self.get_object()
        try:
            services.close_request(req, request.user)
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, error_text(error))
            return self.back(req)
        return self.done(
            req, gettext("Thanks for confirming; %(number)s is closed.") % {"number": req.number}
        )


def _approvals_context(user, **extra) -> dict:
    # What the approver decides on (answers, cost, level), as the workspace's inbox shows.
    pending = services.approval_inbox(user)
    done = list(
        Approval.objects.filter(approver=user)
        .exclude(decision=Approval.Decision.PENDING)
        .select_related("request__item", "request__requested_for")
        .order_by("-decided_at", "-pk")[:30]
    )
    forms_by_pk = extra.pop("forms", {})
    for approval in pending:
        approval.form = forms_by_pk.get(approval.pk) or DecisionForm(prefix=f"a{approval.pk}")
    return {"pending": pending, "done": done, **extra}


@login_required
def approvals(request):
    return render(request, "catalogue/portal_approvals.html", _approvals_context(request.user))


@login_required
@require_POST
def decide(request, pk: int):
    approval = get_object_or_404(
        services.pending_approvals(request.user).select_related("request"), pk=pk
    )
    form = DecisionForm(request.POST, prefix=f"a{pk}")
    if form.is_valid():
        approve = form.cleaned_data["decision"] == "approve"
        try:
            services.decide(approval, request.user, approve, form.cleaned_data["comment"])
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            for key, texts in error.message_dict.items():
                for text in texts:
                    form.add_error("comment" if key == "comment" else None, text)
        else:
            number = approval.request.number
            if approve:
                text = gettext("%(number)s: approved. Thank you.") % {"number": number}
            else:
                text = gettext("%(number)s: rejected. Thank you.") % {"number": number}
            messages.success(request, text)
            return redirect("catalogue:approvals")
    return render(
        request,
        "catalogue/portal_approvals.html",
        _approvals_context(request.user, forms={pk: form}),
        status=400,
    )
