"""Article text: Markdown rendered on the server and sanitised with an allow-list, a plain
text excerpt, and line differences between two texts."""

import difflib
import html
import re
from dataclasses import dataclass

import nh3

# The sanitised Markdown renderer is the kernel's (release notes use it too); kept here
# under its old names for the knowledge base's callers.
from itsm.core.markdown import (  # noqa: F401
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    EXTENSIONS,
    URL_SCHEMES,
    render_markdown,
)

_MARKUP = re.compile(r"[#*_`>|~\[\]]+|\(https?://[^)]*\)|!\[[^\]]*\]")
_SPACE = re.compile(r"\s+")


def excerpt(text: str, length: int = 200) -> str:
    """The start of a Markdown text as plain words (for search hits and lists)."""
    plain = html.unescape(nh3.clean(text[: length * 4], tags=set()))
    plain = _SPACE.sub(" ", _MARKUP.sub(" ", plain)).strip()
    if len(plain) <= length:
        return plain
    return plain[:length].rsplit(" ", 1)[0] + "…"


@dataclass(frozen=True)
class DiffRow:
    """One row of a side-by-side difference: ``kind`` is equal, changed, added or removed."""

    kind: str
    old_number: int | None
    old: str
    new_number: int | None
    new: str


def diff_rows(old: str, new: str, context: int = 3) -> list[DiffRow | None]:
    """Side-by-side rows of the lines that differ, with ``context`` equal lines around each
    change; ``None`` stands for equal lines left out."""
    a, b = (old or "").splitlines(), (new or "").splitlines()
    rows: list[DiffRow | None] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        if rows:
            rows.append(None)
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows.extend(
                    DiffRow("equal", i + 1, a[i], j + 1, b[j])
                    for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                )
            elif tag == "replace":
                for k in range(max(i2 - i1, j2 - j1)):
                    i, j = i1 + k, j1 + k
                    if i < i2 and j < j2:
                        rows.append(DiffRow("changed", i + 1, a[i], j + 1, b[j]))
                    elif i < i2:
                        rows.append(DiffRow("removed", i + 1, a[i], None, ""))
                    else:
                        rows.append(DiffRow("added", None, "", j + 1, b[j]))
            elif tag == "delete":
                rows.extend(DiffRow("removed", i + 1, a[i], None, "") for i in range(i1, i2))
            elif tag == "insert":
                rows.extend(DiffRow("added", None, "", j + 1, b[j]) for j in range(j1, j2))
    return rows


def unified_diff(old: str, new: str, old_label: str, new_label: str) -> str:
    return "\n".join(
        difflib.unified_diff(
            (old or "").splitlines(), (new or "").splitlines(), old_label, new_label, lineterm=""
        )
    )
