"""Finding and replacing what names a person in stored text: their e-mail address, phone,
full name and username, wherever a model keeps text (text columns and JSON values), found
generically from the models, so that a new practice's fields are covered without being
listed here."""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.apps import apps
from django.db import connection, models
from django.db.models.functions import Cast, Coalesce, Concat

#: Apps whose rows are never rewritten here: the schema's own (content types,
#: permissions), sessions (ended instead), the audit log (append-only: it names people by
#: id) and this app.
SKIPPED_APPS = frozenset({"contenttypes", "sessions", "audit", "privacy", "authtoken"})
SKIPPED_MODELS = frozenset({"auth.permission", "auth.group", "accounts.user"})

#: The shortest identifier replaced (a two-letter username would match too much).
MIN_LENGTH = 3


@dataclass
class Replacements:
    """What names a person and what takes its place, longest first (an e-mail address
    holds the username). ``protected``: other people's identifiers that hold one of the
    person's (``annlee-2`` beside ``annlee``), left as they are."""

    pairs: list[tuple[str, str]] = field(default_factory=list)
    protected: list[str] = field(default_factory=list)

    def __post_init__(self):
        seen: dict[str, str] = {}
        for old, new in self.pairs:
            old = (old or "").strip()
            if len(old) >= MIN_LENGTH and old.lower() != new.lower():
                seen.setdefault(old.lower(), new)
        self.pairs = sorted(seen.items(), key=lambda p: -len(p[0]))
        self.protected = sorted(
            {p for p in self.protected if p and p.lower() not in seen}, key=len, reverse=True
        )
        self._compiled = None

    def _patterns(self):
        """(protected patterns, (pattern, new) pairs), compiled when first used. A word of
        its own: not inside another word, address or dotted name; a file's
        "annlee-cv.txt" or a sentence's "annlee." still name her."""
        if self._compiled is None:
            self._compiled = (
                [re.compile(re.escape(p), re.IGNORECASE) for p in self.protected],
                [
                    (re.compile(rf"(?<![\w.@+-]){re.escape(old)}(?![\w@])", re.IGNORECASE), new)
                    for old, new in self.pairs
                ],
            )
        return self._compiled

    def __bool__(self):
        return bool(self.pairs)

    @property
    def needles(self) -> list[str]:
        return [old for old, _ in self.pairs]

    def text(self, value: str) -> str:
        kept: list[str] = []

        def keep(match) -> str:
            kept.append(match.group(0))
            return f"\x00{len(kept) - 1}\x00"  # a NUL is never in stored text

        protected, patterns = self._patterns()
        for pattern in protected:
            value = pattern.sub(keep, value)
        for pattern, new in patterns:
            value = pattern.sub(new, value)
        if kept:
            value = re.sub("\x00(\\d+)\x00", lambda m: kept[int(m.group(1))], value)
        return value

    def value(self, value):
        """``value`` with every identifier replaced: a string, or JSON (dicts' keys kept)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        return value


def text_fields(model) -> list[models.Field]:
    """The columns of ``model`` that may hold free text about a person: text and JSON,
    not a choice, not a key, not a generated column."""
    found = []
    for f in model._meta.concrete_fields:
        if f.primary_key or f.choices or isinstance(f, models.GeneratedField):
            continue
        if isinstance(f, models.CharField | models.TextField | models.JSONField):
            found.append(f)
    return found


def file_fields(model) -> list[models.FileField]:
    """The columns of ``model`` holding a stored file's name (its path may name a person:
    the name it was uploaded under)."""
    return [f for f in model._meta.concrete_fields if isinstance(f, models.FileField)]


def scanned_models() -> Iterable[type[models.Model]]:
    for model in apps.get_models():
        opts = model._meta
        if opts.proxy or not opts.managed or opts.app_label in SKIPPED_APPS:
            continue
        if opts.label_lower in SKIPPED_MODELS:
            continue
        if text_fields(model):
            yield model


def candidates(queryset, replacements: Replacements, fields: list[models.Field] | None = None):
    """The rows of ``queryset`` whose text may name the person (a superset: a case-blind
    match of any identifier anywhere in the row's text; :func:`rewrite` decides by word).
    One pattern over the row's text columns joined (PostgreSQL): each row is read once."""
    if fields is None:
        fields = text_fields(queryset.model) + file_fields(queryset.model)
    if not fields or not replacements:
        return queryset.none()
    pattern = "|".join(re.escape(needle) for needle in replacements.needles)
    text = models.TextField()
    columns = [
        Cast(f.name, text) if not isinstance(f, models.TextField) else models.F(f.name)
        for f in fields
    ]
    if connection.vendor == "postgresql":
        parts = []
        for column in columns:
            parts += [Coalesce(column, models.Value(""), output_field=text), models.Value("\n")]
        return queryset.alias(_privacy_text=Concat(*parts, output_field=text)).filter(
            _privacy_text__iregex=pattern
        )
    # Elsewhere (SQLite: a long concatenation overflows its parser) one test per column.
    aliases = {f"_privacy_{i}": column for i, column in enumerate(columns)}
    condition = models.Q()
    for name in aliases:
        condition |= models.Q(**{f"{name}__iregex": pattern})
    return queryset.alias(**aliases).filter(condition)


def rewrite(obj, replacements: Replacements, fields: list[models.Field] | None = None) -> dict:
    """The changed values of ``obj``'s text fields (nothing if none changes), bounded to
    each column's length."""
    if fields is None:
        fields = text_fields(type(obj)) + file_fields(type(obj))
    changed = {}
    for f in fields:
        old = getattr(obj, f.attname)
        if isinstance(f, models.FileField):
            old = old.name if old else None
        if old is None:
            continue
        new = replacements.value(old)
        if isinstance(new, str) and f.max_length:
            new = new[: f.max_length]
        if new != old:
            changed[f.attname] = new
    return changed


def move_files(obj, changed: dict) -> list[tuple]:
    """Store the files of ``obj`` whose new names ``changed`` holds under those names
    (``changed`` gets the names the storage gave); returns ``(storage, old name)`` of the
    copies to delete once the transaction commits."""
    moved = []
    for f in file_fields(type(obj)):
        if f.attname not in changed:
            continue
        stored = getattr(obj, f.attname)
        new = changed[f.attname].replace(" ", "_")
        if not stored.storage.exists(stored.name):
            changed[f.attname] = new
            continue
        with stored.storage.open(stored.name, "rb") as content:
            changed[f.attname] = stored.storage.save(new, content)
        moved.append((stored.storage, stored.name))
    return moved
