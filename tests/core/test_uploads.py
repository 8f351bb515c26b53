"""Uploads are bounded per request before they reach the disk, and attachments are allowed
by what their bytes are, not by their name or the type the client sent.

- A body announcing more than DATA_UPLOAD_MAX_REQUEST_BYTES is a 413 naming the limit,
  before it is read; more than DATA_UPLOAD_MAX_NUMBER_FILES files is a 400 naming it; a body
  that grows past the limit while received is stopped by the upload handler, its temporary
  files deleted. Nothing is saved in any of these cases.
- Executables (PE, ELF, Mach-O), markup (HTML, SVG, XML), archives holding either, and
  unknown binary files are refused with a 400 naming the file; the stored type is the
  sniffed one.
"""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory

from incidents.models import Incident
from itsm.core.models import Attachment, JournalEntry
from itsm.core.uploads import UploadTooLarge
from tests import factories
from tests.factories import web

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 60
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
PE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 56 + b"PE\x00\x00" + b"\x00" * 100
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 100
MACH_O = b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + b"\x00" * 100


def zipped(**members) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name.replace("__", "/"), content)
    return buffer.getvalue()


@pytest.fixture
def incident(agent, alice, service_desk):
    return factories.incident(
        alice, actor=agent, title="Mail is down", assignment_group=service_desk, assigned_to=agent
    )


def url(incident) -> str:
    return f"/api/v1/incidents/{incident.number}/attachments/"


def upload(client, incident, name, content, content_type="text/plain"):
    return client.post(
        url(incident),
        {"file": SimpleUploadedFile(name, content, content_type=content_type)},
        format="multipart",
    )


def nothing_saved(incident):
    assert not Attachment.objects.exists()
    assert not JournalEntry.objects.for_record(incident).filter(kind="attachment").exists()


class TestTypes:
    @pytest.mark.parametrize(
        ("name", "content", "stored"),
        [
            ("screenshot.png", PNG, "image/png"),
            ("report.pdf", PDF, "application/pdf"),
            ("mail.log", b"Dec  8 00:01 relay: connection refused\n" * 5, "text/plain"),
            ("users.csv", b"name;email\nAda;ada@example.com\nBob;bob@example.com\n", "text/csv"),
            ("config.json", b'{"relay": "mail-01", "port": 25}', "application/json"),
            ("notes.txt", "Grüße, ça marche\n".encode(), "text/plain"),
            ("old.txt", "caf\xe9 au lait\n".encode("cp1252"), "text/plain"),
            ("logs.zip", zipped(**{"mail.log": b"a\n", "dir__b.txt": b"b"}), "application/zip"),
        ],
    )
    def test_allowed_types_are_stored_with_the_sniffed_type(
        self, api_as, agent, incident, name, content, stored
    ):
        # The client claims something else: the bytes decide.
        response = upload(api_as(agent), incident, name, content, "application/x-whatever")
        assert response.status_code == 201, response.content
        assert Attachment.objects.get().mime_type == stored

    def test_a_png_named_txt_is_stored_as_png(self, api_as, agent, incident):
        assert upload(api_as(agent), incident, "notes.txt", PNG).status_code == 201
        assert Attachment.objects.get().mime_type == "image/png"

    @pytest.mark.parametrize(
        ("name", "content", "what"),
        [
            ("setup.exe", PE, "executable"),
            ("invoice.pdf", PE, "executable"),  # the name lies
            ("tool", ELF, "executable"),
            ("app.txt", MACH_O, "Mach-O"),
            ("page.html", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "markup"),
            ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="x()"/>', "markup"),
            ("data.xml", b'<?xml version="1.0"?><a/>', "markup"),
            ("note.txt", b"\n  <script>alert(1)</script>", "markup"),
            ("blob.bin", b"\x00\x01\x02\x03\x04binary", "unknown"),
            ("logs.zip", zipped(**{"a.log": b"x", "run.exe": b"hello"}), "run.exe"),
            ("docs.zip", zipped(**{"readme.txt": PE}), "executable"),
            ("site.zip", zipped(**{"index.html": b"<html>"}), "index.html"),
        ],
    )
    def test_refused_types_name_the_file_and_save_nothing(
        self, api_as, agent, incident, name, content, what
    ):
        response = upload(api_as(agent), incident, name, content, "image/png")
        assert response.status_code == 400, response.content
        message = " ".join(response.json()["file"])
        assert name in message and what in message
        nothing_saved(incident)

    def test_the_allow_list_is_a_setting(self, api_as, agent, incident, settings):
        settings.ATTACHMENT_ALLOWED_TYPES = ["text/plain"]
        response = upload(api_as(agent), incident, "shot.png", PNG)
        assert response.status_code == 400
        assert "image/png" in " ".join(response.json()["file"])
        assert upload(api_as(agent), incident, "a.txt", b"fine\n").status_code == 201

    def test_executables_are_refused_whatever_the_setting(self, api_as, agent, incident, settings):
        settings.ATTACHMENT_ALLOWED_TYPES = [
            *settings.ATTACHMENT_ALLOWED_TYPES,
            "application/x-msdownload",
        ]
        assert upload(api_as(agent), incident, "setup.exe", PE).status_code == 400
        nothing_saved(incident)

    def test_the_screen_refuses_an_executable(self, agent, incident):
        response = web(agent).post(
            f"/incidents/{incident.number}/attach/",
            {"file": SimpleUploadedFile("tool.exe", PE)},
        )
        assert response.status_code in (200, 302, 400)
        nothing_saved(incident)


class TestRequestLimits:
    def test_a_body_announced_too_large_is_413_before_it_is_read(
        self, api_as, agent, incident, settings
    ):
        settings.DATA_UPLOAD_MAX_REQUEST_BYTES = 1000
        response = upload(api_as(agent), incident, "big.log", b"x" * 2000)
        assert response.status_code == 413
        assert "1000 bytes" in response.json()["detail"]
        nothing_saved(incident)

    def test_a_huge_content_length_is_refused_without_reading(self, api_as, agent, incident):
        class Unreadable(io.RawIOBase):
            def read(self, *args):
                raise AssertionError("the body was read")

        response = api_as(agent).generic(
            "POST",
            url(incident),
            b"",
            content_type="multipart/form-data; boundary=x",
            CONTENT_LENGTH=str(1024**3),
            **{"wsgi.input": Unreadable()},
        )
        assert response.status_code == 413
        assert "limit" in response.json()["detail"]

    def test_a_screen_is_told_too(self, agent, incident, settings):
        settings.DATA_UPLOAD_MAX_REQUEST_BYTES = 1000
        response = web(agent).post(
            f"/incidents/{incident.number}/attach/",
            {"file": SimpleUploadedFile("big.log", b"x" * 2000)},
        )
        assert response.status_code == 413
        assert "1000 bytes" in response.content.decode()
        nothing_saved(incident)

    def test_more_files_than_allowed_is_400_naming_the_limit(
        self, api_as, agent, incident, settings
    ):
        settings.DATA_UPLOAD_MAX_NUMBER_FILES = 3
        files = [SimpleUploadedFile(f"f{i}.txt", b"x") for i in range(4)]
        response = api_as(agent).post(url(incident), {"file": files}, format="multipart")
        assert response.status_code == 400
        assert "At most 3 files" in response.json()["detail"]
        nothing_saved(incident)

    def test_ten_files_is_the_default_limit(self, settings):
        assert settings.DATA_UPLOAD_MAX_NUMBER_FILES == 10

    def test_a_body_growing_past_the_limit_is_cut_off_and_leaves_no_file(self, settings, tmp_path):
        """What the Content-Length check cannot see (a body longer than announced, a
        chunked one on a server that passes it on): the upload handler stops it, and the
        temporary files already written are gone."""
        settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
        settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10  # every file goes to a temporary file
        settings.DATA_UPLOAD_MAX_REQUEST_BYTES = 5000
        request = RequestFactory().post(
            "/anything/",
            {
                "first": SimpleUploadedFile("a.log", b"a" * 3000),
                "second": SimpleUploadedFile("b.log", b"b" * 3000),
            },
        )
        with pytest.raises(UploadTooLarge):
            request.FILES  # noqa: B018 (parsing is what is tested)
        assert list(tmp_path.iterdir()) == []

    def test_within_the_limits_several_files_are_fine(self, api_as, agent, incident, settings):
        settings.DATA_UPLOAD_MAX_REQUEST_BYTES = 100_000
        for i in range(3):
            response = upload(api_as(agent), incident, f"f{i}.log", b"line\n" * 1000)
            assert response.status_code == 201, response.content
        assert Attachment.objects.count() == 3
        assert Incident.objects.count() == 1
