"""The resumable SHA-256: its saved state resumes exactly, and a wrong one is refused."""

from __future__ import annotations

import hashlib
import os

import pytest

from storage.hashing import ResumableSha256, resumable_sha256_available

pytestmark = pytest.mark.skipif(
    not resumable_sha256_available(), reason="OpenSSL libcrypto not loadable"
)


@pytest.mark.parametrize("cut", [0, 1, 63, 64, 65, 4096, 99_999, 100_000])
def test_saved_state_resumes_to_the_same_digest(cut: int) -> None:
    data = os.urandom(100_000)
    first = ResumableSha256()
    first.update(data[:cut])
    saved = first.state()
    resumed = ResumableSha256.resume(saved, cut)
    assert resumed is not None
    resumed.update(bytearray(data[cut:]))  # writable buffers hash like bytes
    assert resumed.hexdigest() == hashlib.sha256(data).hexdigest()
    assert first.hexdigest() == hashlib.sha256(data[:cut]).hexdigest()  # hexdigest keeps state
    first.update(memoryview(data)[cut:])
    assert first.hexdigest() == hashlib.sha256(data).hexdigest()


def test_state_for_another_length_or_garbage_is_refused() -> None:
    digest = ResumableSha256()
    digest.update(b"x" * 1000)
    saved = digest.state()
    assert ResumableSha256.resume(saved, 999) is None
    assert ResumableSha256.resume(saved, 1001) is None
    assert ResumableSha256.resume(saved[:-1], 1000) is None
    assert ResumableSha256.resume(b"junk" + saved[4:], 1000) is None
    assert ResumableSha256.resume(None, 1000) is None
