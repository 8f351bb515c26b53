"""The matrix builds its data once per module and sends thousands of requests: the
suite's per-test settings (a media folder per test, the fast password hasher) are set
once for the module instead (see ``test_matrix.matrix``)."""

import pytest


@pytest.fixture(autouse=True)
def _media_and_static():
    """Replaced: the matrix's module fixture sets the media folder and static storage."""


@pytest.fixture(autouse=True)
def _fast_password_hashing():
    """Replaced: the matrix's people have no usable password."""
