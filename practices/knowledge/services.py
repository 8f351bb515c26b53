"""Knowledge management operations. API views, screens, the demo and the review reminder task
all go through these functions; each write runs in one transaction."""

from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from itsm.core import services as core
from itsm.core import writes
from itsm.core.models import JournalEntry, RecordLink

from .models import Article, ArticleFeedback, ArticleVersion, Audience, Deflection
from .workflows import ArticleState, is_reviewer, is_senior_reviewer

User = get_user_model()

#: The working copy: changed only in a draft (a published article is revised first).
CONTENT_FIELDS = ("title", "summary", "body", "keywords")
#: Changed in place in any state but retired.
METADATA_FIELDS = ("audience", "category", "owner", "review_date", "assignment_group")
EDITABLE_FIELDS = CONTENT_FIELDS + METADATA_FIELDS
#: Fields the workflow's effects set as the state changes.
TRANSITION_FIELDS = (
    "submitted_by",
    "published_number",
    "published_title",
    "published_summary",
    "published_keywords",
    "published_body",
    "published_at",
    "published_by",
    "retired_at",
    "revision_started_at",
)
#: How long before its review date an article's owner is reminded.
REVIEW_NOTICE = timedelta(days=7)
MAX_COMMENT = 2000
MAX_BODY = 100_000


def _require_staff(actor) -> None:
    if not writes.is_staff(actor):
        raise PermissionDenied


def _validate(article: Article, changed: set[str] | None = None) -> None:
    def touched(*names) -> bool:
        return changed is None or any(name in changed for name in names)

    errors = {}
    if touched("title") and not (article.title or "").strip():
        errors["title"] = "Give the article a title."
    if touched("body") and len(article.body or "") > MAX_BODY:
        errors["body"] = f"At most {MAX_BODY} characters."
    if touched("audience") and article.audience not in Audience.values:
        errors["audience"] = f"One of: {', '.join(Audience.values)}."
    if touched("category") and article.category_id and not article.category.active:
        errors["category"] = f"{article.category} is no longer in use."
    if touched("owner"):
        if not article.owner_id:
            errors["owner"] = "Every article has an owner who keeps it up to date."
        elif not article.owner.is_agent:
            errors["owner"] = f"{article.owner} is not on the staff."
    if touched("assignment_group") and article.assignment_group_id:
        if not article.assignment_group.active:
            errors["assignment_group"] = f"{article.assignment_group} is not an active team."
    writes.refuse(errors)


def _clean(data: dict, actor) -> dict:
    if "owner" in data and data["owner"] is None:
        data.pop("owner")
    if "audience" in data and not data["audience"]:
        data.pop("audience")
    return data


def _initial(actor, data: dict, options: dict) -> dict:
    source = options.get("source")
    return {
        "state": ArticleState.DRAFT,
        "owner": data.get("owner") or actor,
        "created_from": source.number if source else "",
    }


def _derive(article: Article, actor, change: writes.Write) -> None:
    """The working copy changes only in a draft (``state: draft`` revises a published
    article first, in the same step); a revision starts its clock."""
    before = change.before
    if before is None:
        return
    content = sorted(
        name for name in CONTENT_FIELDS if getattr(before, name) != getattr(article, name)
    )
    if content and ArticleState.DRAFT not in (before.state, article.state):
        raise ValidationError(
            dict.fromkeys(
                content,
                f"{article.number} is {before.get_state_display().lower()}: revise it to "
                f"change its text (readers keep the published version meanwhile).",
            )
        )
    if change.moved(to=ArticleState.DRAFT, source=ArticleState.PUBLISHED):
        article.revision_started_at = timezone.now()


def _saved(article: Article, actor, change: writes.Write) -> None:
    if change.created and change.options.get("source") is not None:
        core.link_records(article, change.options["source"], actor, RecordLink.Kind.RELATES_TO)


def _after(article: Article, actor, change: writes.Write) -> None:
    if change.transition is None:
        return
    before = change.before.state
    note = (change.options.get("note") or "").strip()
    if note:
        core.write_journal(
            article, JournalEntry.Kind.WORK_NOTE, actor, body=note[:MAX_COMMENT], internal=True
        )
    state = article.state
    if state == ArticleState.PUBLISHED:
        ArticleVersion.objects.create(
            article=article,
            number=article.published_number,
            title=article.published_title,
            summary=article.published_summary,
            keywords=article.published_keywords,
            body=article.published_body,
            published_at=article.published_at,
            published_by=actor,
        )
        if actor is None or actor.pk != article.owner_id:
            core.notify(
                [article.owner],
                f"{article.number} published (version {article.published_number}): {article.title}",
                f"{actor or 'The platform'} published version {article.published_number} of "
                f"{article.number}. Next review: {article.review_date:%Y-%m-%d}.",
                article,
            )
    elif state == ArticleState.IN_REVIEW:
        reviewers = [u for u in reviewers_of(article) if actor is None or u.pk != actor.pk]
        core.notify(
            reviewers,
            f"{article.number} waits for your review: {article.title}",
            f"{actor} submitted {article.number} for review.\n\n{note}".strip(),
            article,
        )
    elif before == ArticleState.IN_REVIEW and state == ArticleState.DRAFT:
        if actor is None or actor.pk != article.owner_id:
            core.notify(
                [article.owner],
                f"{article.number} sent back: {article.title}",
                f"{actor} sent {article.number} back for more work.\n\n{note}".strip(),
                article,
            )


def _chars(old, new) -> dict:
    """The versions keep the texts; the journal says how much changed."""
    return {"body": [f"{len(old or '')} characters", f"{len(new or '')} characters"]}


SPEC = writes.WriteSpec(
    model=Article,
    create=writes.Access(staff=EDITABLE_FIELDS),
    update=writes.Access(staff=(*EDITABLE_FIELDS, "state")),
    quiet=TRANSITION_FIELDS,
    expand={"body": _chars},
    refused="This field cannot be changed.",
    clean=_clean,
    initial=_initial,
    derive=_derive,
    validate=_validate,
    created_data=lambda article: {"created_from": article.created_from},
    saved=_saved,
    after=_after,
)


# Writing -----------------------------------------------------------------------------------


def create_article(actor, data: dict, created_from: str = "") -> Article:
    """A new draft. ``created_from`` is the number of the incident or problem it is written
    from; the article is linked to it."""
    _require_staff(actor)
    source = None
    if created_from:
        try:
            source = core.find_record(created_from, actor)
        except ValidationError as error:
            raise ValidationError({"created_from": error.message_dict["target"]}) from None
    return writes.open(SPEC, actor, data, source=source)


def update_article(
    article: Article, actor, data: dict, expected_version: int | None = None, note: str = ""
) -> Article:
    """Change fields and/or the state in one step, checked by the workflow. The working copy
    (title, summary, body, keywords) changes only in a draft; ``state: draft`` on a
    published article revises it first. Publishing keeps the text as a new version."""
    _require_staff(actor)
    return writes.change(SPEC, article, actor, data, expected_version, note=note)


def transition(
    article: Article, actor, target: str, expected_version: int | None = None, note: str = ""
) -> Article:
    return update_article(article, actor, {"state": target}, expected_version, note=note)


def submit(article, actor, expected_version=None, note=""):
    return transition(article, actor, ArticleState.IN_REVIEW, expected_version, note)


def publish(article, actor, expected_version=None, note=""):
    return transition(article, actor, ArticleState.PUBLISHED, expected_version, note)


def send_back(article, actor, expected_version=None, note=""):
    return transition(article, actor, ArticleState.DRAFT, expected_version, note)


def revise(article, actor, expected_version=None, note=""):
    return transition(article, actor, ArticleState.DRAFT, expected_version, note)


def retire(article, actor, expected_version=None, note=""):
    return transition(article, actor, ArticleState.RETIRED, expected_version, note)


def reviewers_of(article: Article):
    """Who reviews the article: its reviewing team's members, else the managers and
    administrators."""
    if article.assignment_group_id:
        people = User.objects.filter(teams=article.assignment_group_id)
    else:
        people = User.objects.filter(Q(role__in=["manager", "administrator"]))
    return people.filter(is_active=True).distinct().order_by("pk")


def review_queue(user):
    """Articles waiting for this reviewer: every one for managers and administrators, those
    of the user's teams for the others."""
    queue = Article.objects.visible_to(user).filter(state=ArticleState.IN_REVIEW)
    if is_senior_reviewer(user):
        return queue
    return queue.filter(assignment_group__in=list(user.team_ids))


def may_review(article, user) -> bool:
    return is_reviewer(article, user)


# Readers -----------------------------------------------------------------------------------


@transaction.atomic
def record_view(article: Article) -> None:
    Article.objects.filter(pk=article.pk).update(views=F("views") + 1)


@transaction.atomic
def give_feedback(article: Article, user, helpful, comment: str = "") -> ArticleFeedback:
    """A reader's answer to "was this helpful?"; answering again changes the answer. A "no"
    with a comment goes to the article's timeline for its owner."""
    if not isinstance(helpful, bool):
        raise ValidationError({"helpful": _("Yes or no.")})
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ValidationError({"comment": f"At most {MAX_COMMENT} characters."})
    if not Article.objects.visible_to(user).filter(pk=article.pk).exists():
        raise PermissionDenied
    if not article.published_number:
        raise ValidationError({"helpful": _("Only a published article can be rated.")})
    now = timezone.now()
    # The article's row is the lock: two first answers from one reader at once would
    # otherwise both insert (a row that does not exist yet cannot be locked).
    Article.objects.select_for_update().filter(pk=article.pk).first()
    existing = ArticleFeedback.objects.filter(article=article, user=user)
    feedback = existing.first()
    counter = "helpful_yes" if helpful else "helpful_no"
    if feedback is None:
        feedback = ArticleFeedback.objects.create(
            article=article,
            user=user,
            helpful=helpful,
            comment=comment,
            version=article.published_number,
            created_at=now,
            updated_at=now,
        )
        Article.objects.filter(pk=article.pk).update(**{counter: F(counter) + 1})
    else:
        if feedback.helpful != helpful:
            previous = "helpful_no" if helpful else "helpful_yes"
            Article.objects.filter(pk=article.pk).update(
                **{counter: F(counter) + 1, previous: F(previous) - 1}
            )
        feedback.helpful = helpful
        feedback.comment = comment
        feedback.version = article.published_number
        feedback.updated_at = now
        feedback.save(update_fields=["helpful", "comment", "version", "updated_at"])
    if comment:
        verdict = "helpful" if helpful else "not helpful"
        core.write_journal(
            article,
            JournalEntry.Kind.COMMENT,
            user,
            body=f"Reader feedback ({verdict}): {comment}",
            internal=True,
        )
    return feedback


@transaction.atomic
def deflect(article: Article, user, query: str = "") -> Deflection:
    """The reader had an issue to report and this article solved it. Counted once per
    reader, article and day (a second click, a reload, a replayed form add nothing)."""
    if not Article.objects.visible_to(user).readable().filter(pk=article.pk).exists():
        raise PermissionDenied
    Article.objects.select_for_update().filter(pk=article.pk).first()
    return Deflection.record_once(user, query, article=article)[0]


# Agents ------------------------------------------------------------------------------------


@transaction.atomic
def comment(article: Article, actor, body: str, internal: bool = False) -> JournalEntry:
    _require_staff(actor)
    entry = core.add_comment(article, actor, body, internal)
    Article.objects.filter(pk=article.pk).update(updated_at=entry.created_at)
    return entry


@transaction.atomic
def attach(article: Article, actor, uploaded_file, internal: bool = False):
    _require_staff(actor)
    return core.add_attachment(article, actor, uploaded_file, internal)


@transaction.atomic
def link(record, article: Article, actor, kind: str = RecordLink.Kind.RELATES_TO):
    """Link a record (an incident…) to an article: ``incident resolved by KB…``."""
    _require_staff(actor)
    return core.link_records(record, article, actor, kind)


#: Fields of a source record an article is prefilled from, in the order they are written.
PREFILL_SECTIONS = (
    ("description", "Symptoms"),
    ("root_cause", "Cause"),
    ("workaround", "Workaround"),
    ("resolution_notes", "Solution"),
    ("resolution", "Solution"),
)


def prefill_from(number: str, user) -> dict:
    """A new article's fields from a resolved incident or a known error (any record type:
    the fields it has are used)."""
    _require_staff(user)
    try:
        record = core.find_record(number, user)
    except ValidationError as error:
        raise ValidationError({"created_from": error.message_dict["target"]}) from None
    sections = []
    seen = set()
    for name, heading in PREFILL_SECTIONS:
        text = getattr(record, name, "")
        text = text.strip() if isinstance(text, str) else ""
        if text and heading not in seen:
            seen.add(heading)
            sections.append(f"## {heading}\n\n{text}")
    known_error = record.NUMBER_PREFIX != "INC"
    return {
        "title": record.title,
        "body": "\n\n".join(sections),
        "summary": "",
        "audience": Audience.INTERNAL if known_error else Audience.PORTAL,
        "created_from": record.number,
    }


# Review reminders --------------------------------------------------------------------------


def _not_reminded():
    return (
        Q(review_reminded_for__isnull=True)
        | Q(review_reminded_for__lt=F("review_date"))
        | Q(review_reminded_for__gt=F("review_date"))
    )


def send_review_reminders(today: date | None = None) -> int:
    """Remind owners of published articles whose review date is within a week or past; one
    reminder per article and review date, however often this runs. Returns how many."""
    today = today or timezone.localdate()
    due = (
        Article.objects.readable()
        .filter(review_date__isnull=False, review_date__lte=today + REVIEW_NOTICE)
        .filter(owner__is_active=True)
        .filter(_not_reminded())
        .select_related("owner")
        .order_by("review_date", "pk")
    )
    sent = 0
    for article in due:
        with transaction.atomic():
            # Claim it: a concurrent run that claimed it first updates nothing here.
            claimed = (
                Article.objects.filter(pk=article.pk, review_date=article.review_date)
                .filter(_not_reminded())
                .update(review_reminded_for=article.review_date)
            )
            if not claimed:
                continue
            days = (article.review_date - today).days
            when = (
                "today"
                if days == 0
                else f"in {days} day{'s' if days != 1 else ''}"
                if days > 0
                else f"{-days} day{'s' if days != -1 else ''} ago"
            )
            core.notify(
                [article.owner],
                f"Review {article.number} ({when}): {article.published_title}",
                f"{article.number} “{article.published_title}” is due for review on "
                f"{article.review_date:%Y-%m-%d} ({when}). Check it is still right, then revise "
                f"and republish it, set a new review date, or retire it.",
                article,
            )
            sent += 1
    return sent
