"""Full-text search and suggestions across record types.

Practices declare :class:`SearchSource` s in their ``PracticeConfig``: the model, the
queryset a user may find (visibility *and* publication: an end user's sources hold only
what that user may read), the text fields with their weights, and how to show a hit. The
kernel imports no practice.

On PostgreSQL each searched table has a stored, generated ``search_vector`` column
(``setweight(to_tsvector('english', …))`` of its fields) with a GIN index, added by the
migration operation :func:`search_vector_operations`; queries use
``websearch_to_tsquery`` (search) or a prefix ``to_tsquery`` (the header's quick search)
and rank with ``ts_rank_cd``. Elsewhere (SQLite, the quick start) every word must occur in
one of the fields, newest first.

Suggestions (:func:`suggest`, while a title is typed) rank on every database by how much
of the text a row covers, in its title above its other strong fields (the weights A and B
of its vector) above anywhere: stop words and a one- or two-letter word still being typed
are left out, a row needs a word in a strong field, and the rows of every suggested kind
are ranked together. On PostgreSQL the words are matched in the vector with weight
restrictions (``word:*AB``); on SQLite at word starts.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection, migrations
from django.db.models import BooleanField, Case, ExpressionWrapper, FloatField, Q, Value, When
from django.db.models.expressions import RawSQL

CONFIG = "english"
VECTOR_COLUMN = "search_vector"
MAX_QUERY_LENGTH = 200
_WORD = re.compile(r"\w+", re.UNICODE)


def _default_summary(obj, user) -> str:
    return ""


def _default_state(obj, user) -> str:
    """A hit's state as its reader names it: a record's workflow label of the state this
    user may see, else the model's own state or status label."""
    workflow = getattr(obj, "workflow", None)
    if workflow is not None and hasattr(obj, "state_for"):
        return workflow.label(obj.state_for(user))
    for name in ("get_state_display", "get_status_display"):
        if hasattr(obj, name):
            return getattr(obj, name)()
    return ""


#: How a source's rows are matched: the generated full-text column (large tables of
#: prose), or every word contained in one of the fields (short names: CIs, assets, people).
FULL_TEXT = "full_text"
CONTAINS = "contains"


@dataclass(frozen=True)
class SearchSource:
    key: str
    label: str
    model: type
    #: user -> queryset of what the user may find (scoped and published)
    queryset: Callable
    #: field name -> weight ("A" the strongest … "D"); the first is the title
    fields: dict[str, str]
    #: (obj, user) -> the URL this user opens the hit at
    url: Callable
    #: (obj, user) -> a line under the title, from what this user may read
    summary: Callable = _default_summary
    #: offered as suggestions while someone types a title (deflection)
    suggest: bool = False
    order: int = 100
    #: the table's generated vector column over exactly ``fields`` (a table may have two:
    #: one over everything for staff, one over what end users may read)
    vector_column: str = "search_vector"
    #: one hit's badge ("Article"); blank: ``label``
    singular: str = ""
    #: the badge end users see on the portal; blank: ``singular``
    portal_label: str = ""
    #: ``FULL_TEXT`` (the vector column) or ``CONTAINS`` (no column needed)
    match: str = FULL_TEXT
    #: a generated vector over the strong fields alone (weights A and B), for suggestions:
    #: whether a row is worth suggesting is then one indexed match (a match restricted to
    #: weights reads every candidate row's vector from the table)
    suggest_vector_column: str = ""
    #: (obj, user) -> the hit's title; ``None``: the first of ``fields``
    title: Callable | None = None
    #: (obj, user) -> the state shown beside a hit
    state: Callable = _default_state
    #: the field holding a reference people type to open one row directly (a record
    #: number, an asset tag) and the pattern such a reference has (``INC\d+``): the
    #: header's search goes straight to that row
    reference_field: str = ""
    reference_pattern: str = ""

    @property
    def reference(self) -> tuple[str, str]:
        """(field, pattern): as declared, else a record's number (``INC`` and digits)."""
        if self.reference_field:
            return self.reference_field, self.reference_pattern
        prefix = getattr(self.model, "NUMBER_PREFIX", "")
        return ("number", rf"{prefix}\d+") if prefix else ("", "")

    def is_reference(self, text: str) -> bool:
        field, pattern = self.reference
        return bool(field and pattern and re.fullmatch(pattern, text, flags=re.IGNORECASE))


@dataclass(frozen=True)
class Hit:
    kind: str
    label: str
    obj: object
    title: str
    summary: str
    url: str
    rank: float
    state: str = ""
    #: the one-word badge of its kind ("Incident")
    singular: str = ""


@dataclass
class SearchSources:
    """The search sources the practice apps declare (``PracticeConfig.search_sources``),
    collected on first use; ``register`` adds one more (tests, a plug-in)."""

    _sources: list[SearchSource] | None = None
    _extra: list[SearchSource] = field(default_factory=list)

    @property
    def sources(self) -> list[SearchSource]:
        if self._sources is None:
            from .practices import registry as practices

            found: dict[str, SearchSource] = {}
            for source in [*practices.search_sources(), *self._extra]:
                found.setdefault(source.key, source)
            self._sources = sorted(found.values(), key=lambda s: (s.order, s.key))
        return self._sources

    def register(self, source: SearchSource) -> None:
        self._extra.append(source)
        self._sources = None

    def get(self, kinds=None, suggest: bool = False) -> list[SearchSource]:
        return [
            s for s in self.sources if (not kinds or s.key in kinds) and (not suggest or s.suggest)
        ]


registry = SearchSources()
register = registry.register


# The vector column (migrations) -----------------------------------------------------------


def vector_expression(fields: dict[str, str]) -> str:
    parts = [
        f"setweight(to_tsvector('{CONFIG}'::regconfig, coalesce({name}, '')), '{weight}')"
        for name, weight in fields.items()
    ]
    return " || ".join(parts)


def search_vector_operations(
    table: str, fields: dict[str, str], column: str = VECTOR_COLUMN
) -> list:
    """Migration operations adding a generated vector ``column`` over ``fields`` (column
    names with weights) and its GIN index to ``table`` on PostgreSQL (nothing elsewhere)."""
    index = f"{table}_search" if column == VECTOR_COLUMN else f"{table}_{column}"

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(
            f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} tsvector "
            f"GENERATED ALWAYS AS ({vector_expression(fields)}) STORED"
        )
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {table} USING gin ({column})")

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(f"DROP INDEX IF EXISTS {index}")
        schema_editor.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS {column}")

    return [migrations.RunPython(forwards, backwards)]


# Queries ----------------------------------------------------------------------------------


def words(text: str) -> list[str]:
    return _WORD.findall((text or "")[:MAX_QUERY_LENGTH].lower())


def _full_text() -> bool:
    return connection.vendor == "postgresql"


def _matching(source: SearchSource, queryset, text: str, prefix: bool, every: bool = True):
    """The queryset narrowed to matches, annotated with ``search_rank``. With ``prefix``
    the last word is a prefix and ``every`` says whether all words must match or any."""
    table = source.model._meta.db_table
    column = f'"{table}"."{source.vector_column}"'
    if source.match == CONTAINS:
        return _containing(source, queryset, text, every or not prefix)
    if _full_text():
        if prefix:
            tokens = words(text)[:8]
            # Only word characters reach to_tsquery: no operator can be smuggled in.
            joiner = " & " if every else " | "
            query = joiner.join([*tokens[:-1], f"{tokens[-1]}:*"]) if tokens else ""
            tsquery = f"to_tsquery('{CONFIG}', %s)"
        else:
            query = text[:MAX_QUERY_LENGTH]
            tsquery = f"websearch_to_tsquery('{CONFIG}', %s)"
        return queryset.filter(
            RawSQL(f"{column} @@ {tsquery}", [query], output_field=BooleanField())
        ).annotate(
            search_rank=RawSQL(
                f"ts_rank_cd({column}, {tsquery})", [query], output_field=FloatField()
            )
        )
    return _containing(source, queryset, text, every or not prefix, rank=False)


def _containing(source: SearchSource, queryset, text: str, every: bool, rank: bool = True):
    """Rows where every word (or, unless ``every``, any word) occurs in one of the
    fields; ranked, when ``rank``, by how the title meets the whole text: equal, starting
    with it, containing it, or only containing its words."""
    condition = Q()
    for token in words(text)[:8]:
        any_field = Q()
        for name in source.fields:
            any_field |= Q(**{f"{name}__icontains": token})
        condition = (condition & any_field) if every else (condition | any_field)
    queryset = queryset.filter(condition)
    if not rank:
        return queryset.annotate(search_rank=Value(0.0, FloatField()))
    title = next(iter(source.fields))
    whole = " ".join(text.replace("\x00", "").split())[:MAX_QUERY_LENGTH]
    return queryset.annotate(
        search_rank=Case(
            When(**{f"{title}__iexact": whole}, then=Value(1.0)),
            When(**{f"{title}__istartswith": whole}, then=Value(0.6)),
            When(**{f"{title}__icontains": whole}, then=Value(0.3)),
            default=Value(0.1),
            output_field=FloatField(),
        )
    )


def _ordered(source: SearchSource, queryset):
    if _full_text() or source.match == CONTAINS:
        return queryset.order_by("-search_rank", "-pk")
    return queryset.order_by("-pk")


def _hits(source: SearchSource, rows, user) -> list[Hit]:
    title_field = next(iter(source.fields))
    return [
        Hit(
            kind=source.key,
            label=source.label,
            obj=obj,
            title=source.title(obj, user) if source.title else str(getattr(obj, title_field)),
            summary=source.summary(obj, user),
            url=source.url(obj, user),
            rank=float(getattr(obj, "search_rank", 0.0) or 0.0),
            state=source.state(obj, user),
            singular=source.singular or source.label,
        )
        for obj in rows
    ]


def lookup(user, text: str) -> Hit | None:
    """The one row ``text`` names by its reference (``PRB0001001``, an asset tag), if the
    user may see it: only the sources whose reference pattern the text has are asked, each
    with one indexed query."""
    text = text.strip()
    if not text or len(text) > MAX_QUERY_LENGTH or "\x00" in text:
        return None  # the request guard refuses a NUL at the edge; callers within too
    for source in registry.sources:
        if not source.is_reference(text):
            continue
        field = source.reference[0]
        found = source.queryset(user).filter(**{f"{field}__in": {text, text.upper()}})[:1]
        rows = _hits(source, found, user)
        if rows:
            return rows[0]
    return None


def search(user, text: str, kinds=None, limit: int = 20) -> list[Hit]:
    """The best ``limit`` hits per kind the user may see, best first (one query per
    kind)."""
    if not words(text):
        return []
    hits: list[Hit] = []
    for source in registry.get(kinds):
        queryset = _ordered(source, _matching(source, source.queryset(user), text, prefix=False))
        hits.extend(_hits(source, queryset[:limit], user))
    hits.sort(key=lambda h: -h.rank)
    return hits


#: PostgreSQL's English stop words (``tsearch_data/english.stop``): the full-text search
#: drops them, and so do suggestions on every database, so "is", "in" or "my" never make a
#: row a suggestion.
_STOP_WORDS = """i me my myself we our ours ourselves you your yours yourself yourselves he him his
    himself she her hers herself it its itself they them their theirs themselves what which
    who whom this that these those am is are was were be been being have has had having do
    does did doing a an the and but if or because as until while of at by for with about
    against between into through during before after above below to from up down in out on
    off over under again further then once here there when where why how all any both each
    few more most other some such no nor not only own same so than too very s t can will
    just don should now"""
STOP_WORDS = frozenset(_STOP_WORDS.split())
#: The shortest last word still being typed that is matched as a prefix: "VPN dr" does not
#: match every word starting with "dr" (until a space ends it, a shorter one is left out).
MIN_PREFIX = 3
#: How much a word of the context (a record's service, category) counts beside one typed.
CONTEXT_WEIGHT = 0.5


@dataclass(frozen=True)
class _Term:
    word: str
    prefix: bool
    weight: float
    typed: bool  # a word of the text (not only of the context)


def _terms(text: str, context: str = "") -> list[_Term]:
    """The words of ``text`` that say something (no stop words, no single letters, each
    once, at most 8), the last one a prefix unless a space ends it, then the words of
    ``context`` (which only add weight)."""
    found: dict[str, _Term] = {}
    typed = words(text)
    still_typing = bool(text) and not text[-1:].isspace()
    for i, word in enumerate(typed):
        last = i == len(typed) - 1 and still_typing
        if word in STOP_WORDS or len(word) < 2 or (last and len(word) < MIN_PREFIX):
            continue
        term = found.get(word)
        found[word] = _Term(word, last and not term, 1.0, True)
        if len(found) == 8:
            break
    for word in words(context)[:8]:
        if word in STOP_WORDS or len(word) < 2:
            continue
        term = found.get(word)
        if term:
            found[word] = _Term(word, term.prefix, term.weight + CONTEXT_WEIGHT, term.typed)
        else:
            found[word] = _Term(word, False, CONTEXT_WEIGHT, False)
    return list(found.values())


def _stem(word: str) -> str:
    """A crude English stem for matching word starts (SQLite): "drops" finds "drop"."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _suggestion_rows(source: SearchSource, queryset, text: str, terms: list[_Term]):
    """The rows of ``source`` worth suggesting for ``terms``, annotated with
    ``search_rank`` in [0, 2]: per word (weighted), 2 if it is in the title, 1 more if in a
    strong field (weights A and B: title, keywords, summary, workaround) and 1 more if
    anywhere, over 4 per word; plus 1 when the title is the text itself; a hair of
    ``ts_rank_cd`` (normalised by length) breaks ties. A row qualifies only when a word is
    in a strong field, what the row is about: words deep in a long body (a Wi-Fi how-to
    mentioning Windows and a new laptop) are not enough."""
    title = next(iter(source.fields))
    total = 4 * sum(t.weight for t in terms)
    whole = " ".join(text.replace("\x00", "").split())[:MAX_QUERY_LENGTH]
    exact = Case(
        When(**{f"{title}__iexact": whole}, then=Value(1.0)),
        default=Value(0.0),
        output_field=FloatField(),
    )
    if _full_text() and source.match == FULL_TEXT:
        column = f'"{source.model._meta.db_table}"."{source.vector_column}"'
        title_weight = source.fields[title]
        strong = "".join(w for w in source.fields.values() if w in "AB") or title_weight

        def query(term: _Term, weights: str = "") -> str:
            # Only word characters reach to_tsquery: no operator can be smuggled in.
            marks = ("*" if term.prefix else "") + weights
            return f"{term.word}:{marks}" if marks else term.word

        # Per word, nested so that a row without the word costs one match (each match
        # reads the row's vector again): 4 in the title, 2 in a strong field, 1 elsewhere.
        match = f"{column} @@ to_tsquery('{CONFIG}', %s)"
        score, params = [], []
        for term in terms:
            score.append(
                f"{term.weight} * (CASE WHEN {match} THEN (CASE WHEN {match} THEN"
                f" (CASE WHEN {match} THEN 4 ELSE 2 END) ELSE 1 END) ELSE 0 END)"
            )
            params += [query(term), query(term, strong), query(term, title_weight)]
        either = " | ".join(query(t, "") for t in terms)
        rank = RawSQL(
            f"({' + '.join(score)}) / {total}"
            f" + 0.01 * ts_rank_cd({column}, to_tsquery('{CONFIG}', %s), 1 | 32)",
            [*params, either],
            output_field=FloatField(),
        )
        # One match: some word in a strong field (through the index of a vector over the
        # strong fields alone, where the source has one).
        if source.suggest_vector_column:
            table = source.model._meta.db_table
            qualifies = RawSQL(
                f'"{table}"."{source.suggest_vector_column}" @@ to_tsquery(\'{CONFIG}\', %s)',
                [either],
                output_field=BooleanField(),
            )
        else:
            qualifies = RawSQL(
                match, [" | ".join(query(t, strong) for t in terms)], output_field=BooleanField()
            )
        return queryset.filter(qualifies).annotate(search_rank=rank + exact)
    strong_fields = [n for n, w in source.fields.items() if w in "AB"] or [title]
    score, strong_hits = Value(0.0), Value(0)

    def one_if(condition: Q):
        return Case(When(condition, then=Value(1)), default=Value(0))

    for term in terms:
        # A word starting with the stem: "new" is not found in "renew" (PostgreSQL's
        # regular expressions spell a word boundary \y, Python's \b).
        start = ("\\y" if _full_text() else "\\b") + re.escape(_stem(term.word))
        in_fields = {n: Q(**{f"{n}__iregex": start}) for n in source.fields}
        in_strong = Q()
        for name in strong_fields:
            in_strong |= in_fields[name]
        anywhere = Q()
        for condition in in_fields.values():
            anywhere |= condition
        score = score + Value(term.weight) * (
            2 * one_if(in_fields[title]) + one_if(in_strong) + one_if(anywhere)
        )
        strong_hits = strong_hits + one_if(in_strong)
    return (
        queryset.alias(strong_hits=strong_hits)
        .filter(strong_hits__gte=1)
        .annotate(
            search_rank=ExpressionWrapper(score / Value(total) + exact, output_field=FloatField())
        )
    )


def suggest(user, text: str, limit: int = 5, kinds=None, context: str = "") -> list[Hit]:
    """What may answer a title being typed, best first: the sources offered as
    suggestions (or ``kinds`` of them), one query each, ranked together by how much of
    the text each row covers, in its title above elsewhere (see
    :func:`_suggestion_rows`), the last word a prefix. ``context`` (a record's service
    or category) adds weight to rows about it."""
    terms = _terms(text, context)
    if not any(t.typed for t in terms):
        return []
    ranked: list[tuple[float, int, int, Hit]] = []
    for source in registry.get(kinds, suggest=True):
        rows = _suggestion_rows(source, source.queryset(user), text, terms)
        found = _hits(source, rows.order_by("-search_rank", "-pk")[:limit], user)
        ranked += [(-hit.rank, source.order, i, hit) for i, hit in enumerate(found)]
    ranked.sort(key=lambda row: row[:3])
    return [row[3] for row in ranked[:limit]]


def quick(user, text: str, per_kind: int = 3, kinds=None) -> tuple[Hit | None, list[Hit]]:
    """What the header's search offers while someone types: the row the text names by
    its reference, if any, then the best ``per_kind`` rows of every kind (every word
    matching, the last one as a prefix), in the sources' order. One query per kind."""
    if not words(text):
        return None, []
    exact = lookup(user, text)
    hits: list[Hit] = []
    for source in registry.get(kinds):
        rows = _ordered(source, _matching(source, source.queryset(user), text, prefix=True))
        found = _hits(source, rows[: per_kind + 1], user)
        if exact is not None:
            found = [h for h in found if not (h.kind == exact.kind and h.obj.pk == exact.obj.pk)]
        hits.extend(found[:per_kind])
    return exact, hits
