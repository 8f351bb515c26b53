"""Uploads stop being stored once they pass the attachment limit, so an oversized file
never fills the disk; the service then refuses it with the limit in the message."""

import io

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler


class SizeLimitedUploadHandler(FileUploadHandler):
    """First in FILE_UPLOAD_HANDLERS: passes chunks on to the usual handlers until the file
    exceeds ATTACHMENT_MAX_BYTES, then swallows the rest and hands over an empty stand-in
    that carries the file's real size."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.ATTACHMENT_MAX_BYTES:
            return None  # nothing more reaches the memory or temporary-file handler
        return raw_data

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
