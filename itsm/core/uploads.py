"""Uploads, bounded before they reach the disk, and attachments allowed by what they are.

- ``SizeLimitedUploadHandler`` (first in FILE_UPLOAD_HANDLERS) stops storing a file once it
  passes ATTACHMENT_MAX_BYTES (the service then refuses it with the limit in the message),
  and stops the whole request once its files together pass DATA_UPLOAD_MAX_REQUEST_BYTES
  (``UploadTooLarge``: the request guard answers 413; the files already received are closed,
  which deletes their temporary files). A request that announces a larger body is refused
  before it is read (``itsm.core.middleware``).
- ``attachment_type`` decides what a file is from its bytes (filetype's signatures, then a
  text check for files without one: plain text, CSV, JSON), never from its name or the
  type the client sent, and refuses what is not in ATTACHMENT_ALLOWED_TYPES: executables
  (PE, ELF, Mach-O), markup (HTML, SVG, XML: they can carry script), archives holding an
  executable or markup.
"""

import codecs
import csv
import io
import json
import re
import zipfile

import filetype
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.utils.translation import gettext


class UploadTooLarge(RequestDataTooBig):
    """The files of one request together passed DATA_UPLOAD_MAX_REQUEST_BYTES."""


def request_limit() -> int:
    return settings.DATA_UPLOAD_MAX_REQUEST_BYTES


class SizeLimitedUploadHandler(FileUploadHandler):
    """Passes chunks on to the usual handlers until a file exceeds ATTACHMENT_MAX_BYTES (then
    swallows the rest and hands over an empty stand-in carrying the file's real size), and
    stops the request once all its files pass DATA_UPLOAD_MAX_REQUEST_BYTES."""

    def __init__(self, request=None):
        super().__init__(request)
        self.total = 0  # one handler per request: every file of it

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        self.total += len(raw_data)
        if self.total > request_limit():
            self._discard_partial_files()
            raise UploadTooLarge(
                gettext("The files of this request exceed %(limit)s bytes together.")
                % {"limit": request_limit()}
            )
        if self.received > settings.ATTACHMENT_MAX_BYTES:
            return None  # nothing more reaches the memory or temporary-file handler
        return raw_data

    def _discard_partial_files(self):
        """The file being received is not finished: close it (a temporary file is deleted
        on close); the finished ones are closed by the parser on the way out."""
        for handler in getattr(self.request, "upload_handlers", ()):
            partial = getattr(handler, "file", None)
            if handler is not self and partial is not None:
                partial.close()

    def file_complete(self, file_size):
        if self.received > settings.ATTACHMENT_MAX_BYTES:
            return UploadedFile(
                file=io.BytesIO(b""),
                name=self.file_name,
                content_type=self.content_type,
                size=self.received,
                charset=self.charset,
            )
        return None


# What a file is --------------------------------------------------------------------------

#: How much of a file is read to tell what it is.
HEAD_BYTES = 8192
#: An archive with more members than this is not looked into, and refused.
MAX_ARCHIVE_MEMBERS = 2000

TEXT = "text/plain"
CSV = "text/csv"
JSON = "application/json"
ZIP_TYPES = {
    "application/zip",
    "application/epub+zip",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
}
#: Machine code: never attachable, whatever the setting says.
EXECUTABLE_TYPES = {"application/x-msdownload", "application/x-executable"}
MACH_O = (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe")
#: Inside an archive, members named like these are refused (a name is all a member has
#: before it is unpacked; their content is sniffed as well).
RISKY_MEMBER = re.compile(
    r"\.(exe|dll|com|scr|msi|bat|cmd|ps1|vbs|vbe|js|jse|wsf|hta|jar|lnk|sh|app|dylib|so|elf"
    r"|html?|xhtml|svg|xml)$",
    re.IGNORECASE,
)
#: C0 controls that never occur in text (tab, line feed, form feed, carriage return and
#: escape do).
BINARY_BYTES = bytes(set(range(32)) - {9, 10, 12, 13, 27})
MARKUP = re.compile(rb"^\s*<", re.DOTALL)


class FileRefused(Exception):
    """What the file is, in words, when it may not be attached."""


def allowed_types() -> set[str]:
    return set(settings.ATTACHMENT_ALLOWED_TYPES)


def attachment_type(uploaded_file, name: str) -> str:
    """The MIME type ``uploaded_file`` has by its content, if attachments may have it; else
    a 400 naming the file and what it is."""
    try:
        kind = _sniff(uploaded_file)
    except FileRefused as refused:
        raise ValidationError(
            {
                "file": gettext("%(name)s: %(what)s cannot be attached.")
                % {"name": name, "what": refused}
            }
        ) from None
    if kind not in allowed_types():
        raise ValidationError(
            {
                "file": gettext("%(name)s: files of type %(type)s cannot be attached.")
                % {"name": name, "type": kind}
            }
        )
    return kind


def _read(uploaded_file, size: int | None = None) -> bytes:
    uploaded_file.seek(0)
    data = uploaded_file.read() if size is None else uploaded_file.read(size)
    uploaded_file.seek(0)
    return data


def _sniff(uploaded_file) -> str:
    head = _read(uploaded_file, HEAD_BYTES)
    if head.startswith(MACH_O):
        raise FileRefused(gettext("a Mach-O executable"))
    guess = filetype.guess(head)
    if guess is not None:
        if guess.mime in EXECUTABLE_TYPES:
            raise FileRefused(gettext("an executable (%(type)s)") % {"type": guess.mime})
        if guess.mime in ZIP_TYPES:
            _check_archive(uploaded_file)
        return guess.mime
    return _text_type(uploaded_file, head)


def _check_archive(uploaded_file) -> None:
    try:
        with zipfile.ZipFile(uploaded_file) as archive:
            members = archive.infolist()
            if len(members) > MAX_ARCHIVE_MEMBERS:
                raise FileRefused(
                    gettext("an archive of more than %(count)s files")
                    % {"count": MAX_ARCHIVE_MEMBERS}
                )
            for member in members:
                if member.is_dir():
                    continue
                if RISKY_MEMBER.search(member.filename):
                    raise FileRefused(
                        gettext("an archive holding %(name)s") % {"name": member.filename}
                    )
                with archive.open(member) as content:
                    start = content.read(262)
                if start.startswith(MACH_O) or (
                    (inner := filetype.guess(start)) and inner.mime in EXECUTABLE_TYPES
                ):
                    raise FileRefused(
                        gettext("an archive holding an executable (%(name)s)")
                        % {"name": member.filename}
                    )
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError):
        raise FileRefused(gettext("a damaged or encrypted archive")) from None
    finally:
        uploaded_file.seek(0)


def _decode(head: bytes) -> str | None:
    """The text ``head`` holds, or None when it is not text."""
    for bom, codec in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                       (codecs.BOM_UTF16_BE, "utf-16-be")):  # fmt: skip
        if head.startswith(bom):
            try:
                return codecs.getincrementaldecoder(codec)().decode(head[len(bom) :])
            except UnicodeDecodeError:
                return None
    if any(byte in BINARY_BYTES for byte in head):
        return None
    try:
        return codecs.getincrementaldecoder("utf-8")().decode(head)
    except UnicodeDecodeError:
        return head.decode("cp1252", errors="replace")  # an older 8-bit text file


def _text_type(uploaded_file, head: bytes) -> str:
    text = _decode(head)
    if text is None:
        raise FileRefused(gettext("a file of unknown type"))
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("<"):
        raise FileRefused(gettext("markup (HTML, SVG or XML, which can carry script)"))
    if stripped[:1] in ("{", "["):
        try:
            json.loads(_read(uploaded_file))
        except ValueError:
            return TEXT
        return JSON
    if _is_csv(text):
        return CSV
    return TEXT


def _is_csv(text: str) -> bool:
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if len(lines) < 2:
        return False
    if len(text) >= HEAD_BYTES - 4:
        lines = lines[:-1]  # the last line read may be cut short
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|")
    except csv.Error:
        return False
    widths = {len(row) for row in csv.reader(lines, dialect)}
    return len(widths) == 1 and widths.pop() > 1
