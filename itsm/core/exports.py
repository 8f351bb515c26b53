"""Cells of the files people download (CSV exports), made safe to open in a spreadsheet.

A spreadsheet runs a cell as a formula when its text starts with ``=``, ``+``, ``-`` or
``@`` (and some also after a leading tab or carriage return, or spaces). Importers that
split on ``;`` or ``,`` themselves (a CSV opened with another separator) turn the text
after a separator into a cell of its own, so ``x;=1+1`` is a formula there. Such a cell is
written with a leading ``'``, which spreadsheets take as "this is text" (OWASP, CSV
injection). Every export writes its text cells through ``safe_cell``."""

import re

#: What starts a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: A formula after a separator an importer may split on (spaces between allowed).
_AFTER_SEPARATOR = re.compile(r"[;,\t\r\n|][\s]*[=+\-@]")


def needs_quoting(text: str) -> bool:
    """Whether a spreadsheet could read ``text`` (or a part of it) as a formula."""
    if not text:
        return False
    if text[:1] in FORMULA_START or text.lstrip()[:1] in FORMULA_START:
        return True
    return _AFTER_SEPARATOR.search(text) is not None


def safe_cell(value) -> str:
    """``value`` as CSV text a spreadsheet will not run: ``None`` is empty, text that could
    be read as a formula gets a leading ``'``. Numbers the export formats itself need not
    pass through here (a negative number would be quoted)."""
    if value is None:
        return ""
    text = str(value)
    return f"'{text}" if needs_quoting(text) else text
