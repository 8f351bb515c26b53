"""One ETag format for every tracked type, and its one parser.

An ETag names the row and its version: ``"INC0001001-v3"``, ``"AT-1-v2"``, ``"ci12-v5"``.
``If-Match`` takes strong ETags only (RFC 9110 13.1.1); ours are all strong. A header that
is not one of ours, names another row, or holds a version no column can hold is refused
(the caller answers 412), so nothing unparsed ever reaches ``int()`` or the database."""

import re

#: The key is everything up to the last ``-v``; a version fits a positive integer column.
_ETAG = re.compile(r'^"(?P<key>[^"]{1,255})-v(?P<version>[0-9]{1,10})"$')
MAX_VERSION = 2**31 - 1


class BadETag(ValueError):
    """An If-Match header that does not match the row it is sent for."""


def format_etag(obj) -> str:
    return f'"{obj.etag_key}-v{obj.version}"'


def expected_version(header: str | None, obj) -> int | None:
    """The version an ``If-Match`` header expects of ``obj``: None when there is no header
    or it is ``*``; ``BadETag`` when it is not an ETag of this row."""
    if header is None:
        return None
    header = header.strip()
    if not header or header == "*":
        return None
    match = _ETAG.match(header)
    if not match or match["key"] != obj.etag_key:
        raise BadETag(header)
    version = int(match["version"])
    if version > MAX_VERSION:
        raise BadETag(header)
    return version
