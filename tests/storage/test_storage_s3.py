"""S3-only behaviour: multipart, presigned downloads, paging, prefixes, error mapping."""

from __future__ import annotations

import itertools
import os
import urllib.parse
import urllib.request
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from storage import ObjectInfo, ObjectNotFound, StorageError, content_disposition, create_storage
from storage.s3 import S3Storage
from storage.testing import GuardedStream

MiB = 1 << 20


@pytest.fixture
def s3(s3_options: dict[str, Any]) -> S3Storage:
    """Return an S3Storage on a fresh bucket with a 5 MiB multipart threshold."""
    return S3Storage(**s3_options)


def _head(s3: S3Storage, key: str) -> dict[str, Any]:
    """HEAD the raw bucket key."""
    result: dict[str, Any] = s3.client.head_object(Bucket=s3.bucket, Key=s3.prefix + key)
    return result


def _fetch(url: str) -> tuple[bytes, Message]:
    """GET a URL directly and return body and headers."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as response:
        return response.read(), response.headers  # case-insensitive lookup


def test_factory_builds_s3_storage(s3_options: dict[str, Any]) -> None:
    storage = create_storage("s3", **s3_options)
    assert isinstance(storage, S3Storage)
    assert storage.name == "s3"
    assert storage.local_path("any/key") is None
    # path-style addressing against the custom endpoint, SigV4 signing
    assert storage.client.meta.config.s3["addressing_style"] == "path"
    assert storage.client.meta.config.signature_version == "s3v4"
    S3Storage(**s3_options)  # create_bucket=True on an existing bucket is fine


def test_large_streamed_put_is_multipart(s3: S3Storage) -> None:
    data = os.urandom(12 * MiB + 5)
    source = GuardedStream(data, max_read=8 * MiB)
    assert s3.put("big/video.mp4", source.as_binary()) == len(data)
    head = _head(s3, "big/video.mp4")
    assert head["ETag"].strip('"').endswith("-3")  # 5 + 5 + 2 MiB parts
    assert head["ContentLength"] == len(data)
    assert head["ContentType"] == "video/mp4"  # guessed from the suffix


def test_small_put_is_single_part(s3: S3Storage) -> None:
    s3.put_bytes("small.bin", b"tiny", content_type="application/x-custom")
    head = _head(s3, "small.bin")
    assert "-" not in head["ETag"]
    assert head["ContentType"] == "application/x-custom"


def test_put_file_large_is_multipart(s3: S3Storage, tmp_path: Path) -> None:
    src = tmp_path / "master.mov"
    src.write_bytes(os.urandom(11 * MiB))
    assert s3.put_file("m/master.mov", src) == 11 * MiB
    assert "-" in _head(s3, "m/master.mov")["ETag"]
    with s3.open("m/master.mov") as fh:
        assert fh.read() == src.read_bytes()


def test_move_large_object_uses_managed_copy(s3: S3Storage) -> None:
    data = os.urandom(11 * MiB)
    s3.put_bytes("in/big.mp4", data, content_type="video/mp4")
    s3.move("in/big.mp4", "out/big.mp4")
    assert not s3.exists("in/big.mp4")
    head = _head(s3, "out/big.mp4")
    assert head["ContentLength"] == len(data)
    assert head["ContentType"] == "video/mp4"  # metadata survives the multipart copy
    assert b"".join(s3.iter_range("out/big.mp4")) == data


def test_presigned_url_with_chinese_filename(s3: S3Storage) -> None:
    s3.put_bytes("assets/42/master.mp4", b"film bytes")
    url = s3.presigned_url(
        "assets/42/master.mp4",
        expires=120,
        filename="第一课 “光合作用”.mp4",
        content_type="video/mp4",
    )
    assert url is not None
    assert url.startswith(s3.client.meta.endpoint_url + f"/{s3.bucket}/")  # path style
    assert "X-Amz-Signature=" in url
    assert "X-Amz-Expires=120" in url
    body, headers = _fetch(url)
    assert body == b"film bytes"
    assert headers["Content-Type"] == "video/mp4"
    disposition = headers["Content-Disposition"]
    assert disposition == content_disposition("第一课 “光合作用”.mp4")
    assert disposition.startswith('attachment; filename="')
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert urllib.parse.unquote(encoded) == "第一课 “光合作用”.mp4"


def test_presigned_url_ascii_filename(s3: S3Storage) -> None:
    s3.put_bytes("a.bin", b"x")
    url = s3.presigned_url("a.bin", filename="lesson 1.mp4")
    assert url is not None
    assert _fetch(url)[1]["Content-Disposition"] == 'attachment; filename="lesson 1.mp4"'


def test_list_pages(s3_options: dict[str, Any]) -> None:
    s3 = S3Storage(**s3_options, list_page_size=7)
    calls: list[str] = []
    s3.client.meta.events.register(
        "before-call.s3.ListObjectsV2", lambda **_kw: calls.append("list")
    )
    keys = [f"p/{i:03d}" for i in range(23)]
    for key in reversed(keys):
        s3.put_bytes(key, b"z")
    assert [info.key for info in s3.list("p/")] == keys
    assert len(calls) == 4  # 7 + 7 + 7 + 2


def test_storage_prefix_is_hidden(s3_options: dict[str, Any]) -> None:
    s3 = S3Storage(**s3_options, prefix="/tenant/edu/")
    assert s3.prefix == "tenant/edu/"
    s3.put_bytes("a/b.txt", b"hi")
    raw = s3.client.list_objects_v2(Bucket=s3.bucket)["Contents"]
    assert [obj["Key"] for obj in raw] == ["tenant/edu/a/b.txt"]
    assert list(s3.list()) == [ObjectInfo("a/b.txt", 2)]
    s3.move("a/b.txt", "c.txt")
    assert [info.key for info in s3.list()] == ["c.txt"]
    assert s3.delete_prefix("c") == 1


def test_foreign_keys_are_not_listed_but_deleted_by_prefix(s3: S3Storage) -> None:
    s3.client.put_object(Bucket=s3.bucket, Key="dir/", Body=b"")  # console "folder"
    s3.client.put_object(Bucket=s3.bucket, Key="dir//odd", Body=b"")
    s3.put_bytes("dir/ok", b"1")
    assert [info.key for info in s3.list()] == ["dir/ok"]
    assert s3.delete_prefix("dir/") == 3


def test_local_copy_temp_file_removed(s3: S3Storage) -> None:
    s3.put_bytes("c/片段 1.ts", b"segment")
    with s3.local_copy("c/片段 1.ts") as path:
        assert path.read_bytes() == b"segment"
        assert path.name == "片段 1.ts"
        parent = path.parent
    assert not path.exists()
    assert not parent.exists()


def test_errors_are_translated(s3: S3Storage, s3_options: dict[str, Any]) -> None:
    with pytest.raises(ObjectNotFound) as info:
        s3.size("missing")
    assert isinstance(info.value.__cause__, ClientError)
    with pytest.raises(ObjectNotFound):
        s3.open("missing")
    with pytest.raises(ObjectNotFound):
        s3.move("missing", "elsewhere")
    no_bucket = S3Storage(**{**s3_options, "bucket": "no-such-bucket-x", "create_bucket": False})
    with pytest.raises(StorageError):
        no_bucket.put_bytes("k", b"v")
    with pytest.raises(StorageError):
        list(no_bucket.list())


def test_interrupted_multipart_upload_is_aborted(s3: S3Storage) -> None:
    data = os.urandom(12 * MiB)
    source = GuardedStream(data, fail_at=7 * MiB)
    with pytest.raises(Exception, match="source failed"):
        s3.put("up/x.mp4", source.as_binary())
    uploads = s3.client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", [])
    assert uploads == []
    assert list(s3.list()) == []


def test_presigned_links_use_the_public_endpoint(s3_options: dict[str, Any]) -> None:
    """Inside compose the app talks to http://minio:9000; browsers need the public name."""
    from storage import create_storage

    public = "http://media.example.test:9000"
    store = create_storage("s3", **s3_options, public_endpoint_url=public)
    store.put_bytes("a/b.mp4", b"x")
    assert store.presigned_url("a/b.mp4", expires=60).startswith(public + "/")
    assert store.exists("a/b.mp4")  # data calls still go to the internal endpoint


def test_multipart_upload_parts_from_separate_calls(s3: S3Storage, tmp_path: Path) -> None:
    data = os.urandom(11 * MiB + 3)
    cuts = [0, 6 * MiB, 11 * MiB, len(data)]
    upload_id = s3.start_multipart("incoming/up")
    parts = []
    for number, (lo, hi) in enumerate(itertools.pairwise(cuts), start=1):
        spool = tmp_path / f"spool-{number}"
        spool.write_bytes(data[lo:hi])
        with spool.open("rb") as fh:
            parts.append(s3.upload_part("incoming/up", upload_id, number, fh, hi - lo))
    s3.complete_multipart("incoming/up", upload_id, list(reversed(parts)))  # any order
    with s3.open("incoming/up") as fh:
        assert fh.read() == data
    assert _head(s3, "incoming/up")["ETag"].strip('"').endswith("-3")


def test_aborted_multipart_leaves_nothing(s3: S3Storage, tmp_path: Path) -> None:
    upload_id = s3.start_multipart("incoming/gone")
    spool = tmp_path / "spool"
    spool.write_bytes(b"x" * (5 * MiB))
    with spool.open("rb") as fh:
        s3.upload_part("incoming/gone", upload_id, 1, fh, 5 * MiB)
    s3.abort_multipart("incoming/gone", upload_id)
    s3.abort_multipart("incoming/gone", upload_id)  # twice is fine
    listed = s3.client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", [])
    assert [u for u in listed if u["UploadId"] == upload_id] == []
    assert not s3.exists("incoming/gone")


def test_local_storage_has_no_multipart(tmp_path: Path) -> None:
    local = create_storage("local", root=tmp_path / "store")
    assert local.multipart_min_part is None
    with pytest.raises(StorageError, match="no multipart"):
        local.start_multipart("a/b")
