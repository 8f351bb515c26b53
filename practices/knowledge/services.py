"""Knowledge management operations. API views, screens, the demo and the review reminder task
all go through these functions; each write runs in one transaction."""

from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop, ngettext
from django.utils.translation import gettext_lazy as _

from itsm.core import services as core
from itsm.core import writes
from itsm.core.i18n import said
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
        errors["title"] = gettext("Give the article a title.")
    if touched("body") and len(article.body or "") > MAX_BODY:
        errors["body"] = gettext("At most %(count)d characters.") % {"count": MAX_BODY}
    if touched("audience") and article.audience not in Audience.values:
        errors["audience"] = gettext("One of: %(values)s.") % {"values": ", ".join(Audience.values)}
    if touched("category") and article.category_id and not article.category.active:
        errors["category"] = gettext("%(category)s is no longer in use.") % {
            "category": article.category
        }
    if touched("owner"):
        if not article.owner_id:
            errors["owner"] = gettext("Every article has an owner who keeps it up to date.")
        elif not article.owner.is_agent:
            errors["owner"] = gettext("%(person)s is not on the staff.") % {"person": article.owner}
    if touched("assignment_group") and article.assignment_group_id:
        if not article.assignment_group.active:
            errors["assignment_group"] = gettext("%(team)s is not an active team.") % {
                "team": article.assignment_group
            }
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


def state_word(state: str) -> str:
    """An article's state as a word in a sentence (lower case in English)."""
    label = str(ArticleState(state).label)
    return label.lower() if (translation.get_language() or "en").startswith("en") else label


#: What each named step (``publish``…) moves an article from, and the sentence refusing it
#: elsewhere: publishing a published article is not a no-op, sending one back not a revision.
STEPS = {
    "submit": (
        {ArticleState.DRAFT},
        gettext_noop("%(number)s is %(state)s: only a draft can be submitted for review."),
    ),
    "publish": (
        {ArticleState.IN_REVIEW},
        gettext_noop("%(number)s is %(state)s: only an article in review can be published."),
    ),
    "send_back": (
        {ArticleState.IN_REVIEW},
        gettext_noop("%(number)s is %(state)s: only an article in review can be sent back."),
    ),
    "revise": (
        {ArticleState.PUBLISHED},
        gettext_noop("%(number)s is %(state)s: only a published article can be revised."),
    ),
    "retire": (
        {ArticleState.DRAFT, ArticleState.IN_REVIEW, ArticleState.PUBLISHED},
        gettext_noop("%(number)s is %(state)s: it cannot be retired."),
    ),
}


def _derive(article: Article, actor, change: writes.Write) -> None:
    """The working copy changes only in a draft (``state: draft`` revises a published
    article first, in the same step); a revision starts its clock. A named step
    (``publish``…) moves only from its own states (read under the lock)."""
    before = change.before
    if before is None:
        return
    step = change.options.get("step")
    if step is not None:
        sources, refusal = STEPS[step]
        if before.state not in sources:
            raise ValidationError(
                {
                    "state": gettext(refusal)
                    % {"number": article.number, "state": state_word(before.state)}
                }
            )
    content = sorted(
        name for name in CONTENT_FIELDS if getattr(before, name) != getattr(article, name)
    )
    if content and ArticleState.DRAFT not in (before.state, article.state):
        raise ValidationError(
            dict.fromkeys(
                content,
                gettext(
                    "%(number)s is %(state)s: revise it to change its text (readers keep the "
                    "published version meanwhile)."
                )
                % {"number": article.number, "state": state_word(before.state)},
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
            values = {
                "number": article.number,
                "version": article.published_number,
                "title": article.title,
                "review": f"{article.review_date:%Y-%m-%d}",
            }
            core.notify(
                [article.owner],
                lambda: gettext("%(number)s published (version %(version)s): %(title)s") % values,
                lambda: (
                    gettext(
                        "%(actor)s published version %(version)s of %(number)s. "
                        "Next review: %(review)s."
                    )
                    % {**values, "actor": actor or gettext("The platform")}
                ),
                article,
            )
    elif state == ArticleState.IN_REVIEW:
        reviewers = [u for u in reviewers_of(article) if actor is None or u.pk != actor.pk]
        values = {"number": article.number, "title": article.title, "actor": actor}
        core.notify(
            reviewers,
            lambda: gettext("%(number)s waits for your review: %(title)s") % values,
            lambda: (
                gettext("%(actor)s submitted %(number)s for review.") % values + f"\n\n{note}"
            ).strip(),
            article,
        )
    elif before == ArticleState.IN_REVIEW and state == ArticleState.DRAFT:
        if actor is None or actor.pk != article.owner_id:
            values = {"number": article.number, "title": article.title, "actor": actor}
            core.notify(
                [article.owner],
                lambda: gettext("%(number)s sent back: %(title)s") % values,
                lambda: (
                    gettext("%(actor)s sent %(number)s back for more work.") % values
                    + f"\n\n{note}"
                ).strip(),
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
    refused=_("This field cannot be changed."),
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


def _step(step: str, article, actor, target, expected_version, note) -> Article:
    """A named step: refused (400 naming the state) unless the article is in one of the
    states it moves from (``STEPS``)."""
    _require_staff(actor)
    data = {"state": target}
    return writes.change(SPEC, article, actor, data, expected_version, note=note, step=step)


def submit(article, actor, expected_version=None, note=""):
    return _step("submit", article, actor, ArticleState.IN_REVIEW, expected_version, note)


def publish(article, actor, expected_version=None, note=""):
    return _step("publish", article, actor, ArticleState.PUBLISHED, expected_version, note)


def send_back(article, actor, expected_version=None, note=""):
    return _step("send_back", article, actor, ArticleState.DRAFT, expected_version, note)


def revise(article, actor, expected_version=None, note=""):
    return _step("revise", article, actor, ArticleState.DRAFT, expected_version, note)


def retire(article, actor, expected_version=None, note=""):
    return _step("retire", article, actor, ArticleState.RETIRED, expected_version, note)


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
        raise ValidationError({"helpful": gettext("Yes or no.")})
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ValidationError(
            {"comment": gettext("At most %(count)d characters.") % {"count": MAX_COMMENT}}
        )
    if not Article.objects.visible_to(user).filter(pk=article.pk).exists():
        raise PermissionDenied
    if not article.published_number:
        raise ValidationError({"helpful": gettext("Only a published article can be rated.")})
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
        if helpful:
            body = said(gettext_noop("Reader feedback (helpful): %(comment)s"), comment=comment)
        else:
            body = said(gettext_noop("Reader feedback (not helpful): %(comment)s"), comment=comment)
        core.write_journal(article, JournalEntry.Kind.COMMENT, user, body=body, internal=True)
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
    ("description", _("Symptoms")),
    ("root_cause", _("Cause")),
    ("workaround", _("Workaround")),
    ("resolution_notes", _("Solution")),
    ("resolution", _("Solution")),
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
    for name, label in PREFILL_SECTIONS:
        heading = str(label)
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


def _when(days: int) -> str:
    """A review date as seen from today: "today", "in 3 days", "2 days ago"."""
    if days == 0:
        return gettext("today")
    if days > 0:
        return ngettext("in %(count)d day", "in %(count)d days", days) % {"count": days}
    return ngettext("%(count)d day ago", "%(count)d days ago", -days) % {"count": -days}


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
            values = {
                "number": article.number,
                "title": article.published_title,
                "date": f"{article.review_date:%Y-%m-%d}",
            }
            core.notify(
                [article.owner],
                lambda days=days, values=values: (
                    gettext("Review %(number)s (%(when)s): %(title)s")
                    % {**values, "when": _when(days)}
                ),
                lambda days=days, values=values: (
                    gettext(
                        "%(number)s “%(title)s” is due for review on %(date)s (%(when)s). "
                        "Check it is still right, then revise and republish it, set a new "
                        "review date, or retire it."
                    )
                    % {**values, "when": _when(days)}
                ),
                article,
            )
            sent += 1
    return sent
