"""S3 (and S3-compatible: MinIO, Ceph, moto) storage backend built on boto3.

Uploads go through boto3's managed transfer: the source stream is read
sequentially, in bounded pieces, and anything at or above
``multipart_threshold`` becomes a multipart upload with ``multipart_chunksize``
parts. Moves use the managed copy (multipart ``UploadPartCopy`` for big
objects, so > 5 GB works) followed by a delete of the source.

When ``content_type`` is not given, it is guessed from the key's suffix.
"""

from __future__ import annotations

import contextlib
import io
import mimetypes
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from storage.base import (
    DEFAULT_CHUNK_SIZE,
    InvalidKey,
    ObjectInfo,
    ObjectNotFound,
    Storage,
    StorageError,
    UploadedPart,
    content_disposition,
    validate_key,
)

__all__ = ["S3Storage"]

MiB = 1 << 20
_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
_DELETE_BATCH = 1000  # DeleteObjects limit


def _error_code(exc: ClientError) -> str:
    """Return the S3 error code of a ClientError."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def _is_not_found(exc: ClientError) -> bool:
    """Return whether a ClientError means the object (not the bucket) is missing."""
    code = _error_code(exc)
    if code == "NoSuchBucket":
        return False
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in _NOT_FOUND_CODES or status == 404


class _SequentialReader:
    """Present a stream to boto3 as non-seekable, filling each read with bounded source reads."""

    def __init__(self, source: BinaryIO, max_read: int = DEFAULT_CHUNK_SIZE) -> None:
        """Wrap ``source``; never ask it for more than ``max_read`` bytes at once."""
        self._source = source
        self._max_read = max_read
        self._eof = False
        self.bytes_read = 0

    def readable(self) -> bool:
        """Report that the stream is readable."""
        return True

    def seekable(self) -> bool:
        """Report that the stream is not seekable (so boto3 reads it strictly in order)."""
        return False

    def read(self, size: int | None = -1) -> bytes:
        """Return exactly ``size`` bytes unless EOF comes first (all remaining if size < 0)."""
        parts: list[bytes] = []
        wanted = -1 if size is None or size < 0 else size
        got = 0
        while not self._eof and (wanted < 0 or got < wanted):
            ask = self._max_read if wanted < 0 else min(self._max_read, wanted - got)
            chunk = self._source.read(ask)
            if not chunk:
                self._eof = True
                break
            parts.append(chunk)
            got += len(chunk)
        self.bytes_read += got
        return b"".join(parts)


class _BodyReader(io.RawIOBase):
    """Raw-IO adapter over a botocore StreamingBody."""

    def __init__(self, body: Any, key: str) -> None:
        """Wrap ``body`` (the GetObject ``Body``) of ``key``."""
        super().__init__()
        self._body = body
        self._key = key

    def readable(self) -> bool:
        """Report that the body is readable."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Read up to ``len(buffer)`` bytes of the body into ``buffer``."""
        view = memoryview(buffer).cast("B")
        try:
            data = self._body.read(len(view))
        except BotoCoreError as exc:
            raise StorageError(f"reading {self._key!r} from S3 failed: {exc}") from exc
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        """Close the HTTP body and this adapter."""
        if not self.closed:
            self._body.close()
        super().close()


class S3Storage(Storage):
    """Store objects in an S3 bucket, optionally below a key prefix.

    Pass ``client`` to reuse a configured boto3 S3 client (``endpoint_url`` and
    ``region_name`` are then ignored). ``list_page_size`` sets ListObjectsV2's
    MaxKeys; ``max_concurrency`` bounds transfer threads and buffered parts.
    """

    name = "s3"
    multipart_min_part = 5 * MiB

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        prefix: str = "",
        multipart_threshold: int = 64 * MiB,
        multipart_chunksize: int = 16 * MiB,
        create_bucket: bool = False,
        client: Any | None = None,
        list_page_size: int = 1000,
        max_concurrency: int = 4,
        public_endpoint_url: str | None = None,
    ) -> None:
        """Connect to ``bucket`` (credentials from boto3's usual chain).

        ``public_endpoint_url`` signs presigned links for the address browsers use when
        ``endpoint_url`` is an internal name (``http://minio:9000`` inside compose).
        """
        if not bucket:
            raise ValueError("bucket must not be empty")
        if not 1 <= list_page_size <= 1000:
            raise ValueError("list_page_size must be in 1..1000")
        endpoint_url = endpoint_url or None  # "" from configuration means "not set"
        region_name = region_name or None
        stripped = prefix.strip("/")
        self.prefix = validate_key(stripped) + "/" if stripped else ""
        self.bucket = bucket
        if client is None:
            config = Config(
                signature_version="s3v4",
                s3={"addressing_style": "path" if endpoint_url else "auto"},
                retries={"max_attempts": 5, "mode": "standard"},
            )
            client = boto3.session.Session().client(
                "s3", endpoint_url=endpoint_url, region_name=region_name, config=config
            )
        self.client: Any = client
        self._presign_client: Any = client
        if public_endpoint_url:
            self._presign_client = boto3.session.Session().client(
                "s3",
                endpoint_url=public_endpoint_url,
                region_name=region_name or client.meta.region_name,
                config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
            )
        self._list_page_size = list_page_size
        self._transfer = TransferConfig(
            multipart_threshold=multipart_threshold,
            multipart_chunksize=multipart_chunksize,
            max_concurrency=max_concurrency,
            preferred_transfer_client="classic",
        )
        # Bound the parts buffered in memory while streaming a non-seekable upload.
        self._transfer.max_in_memory_upload_chunks = max_concurrency
        if create_bucket:
            self._ensure_bucket(region_name or self.client.meta.region_name)

    def __repr__(self) -> str:
        """Show the bucket and prefix."""
        return f"S3Storage(bucket={self.bucket!r}, prefix={self.prefix!r})"

    # ---- helpers -----------------------------------------------------------------

    def _full(self, key: str) -> str:
        """Return the bucket key for a storage key or prefix."""
        return self.prefix + key

    @contextlib.contextmanager
    def _errors(self, action: str, key: str, *, not_found: bool = True) -> Iterator[None]:
        """Translate botocore/boto3 failures into StorageError (ObjectNotFound for a 404 on key)."""
        try:
            yield
        except ClientError as exc:
            if not_found and _is_not_found(exc):
                raise ObjectNotFound(key) from exc
            raise StorageError(self._describe(action, key, exc)) from exc
        except (BotoCoreError, Boto3Error) as exc:
            raise StorageError(self._describe(action, key, exc)) from exc

    def _describe(self, action: str, key: str, exc: Exception) -> str:
        """Format a failure message naming the bucket and key (or prefix)."""
        return f"S3 {action} of s3://{self.bucket}/{self.prefix}{key} failed: {exc}"

    def _ensure_bucket(self, region: str | None) -> None:
        """Create the bucket unless it already exists."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if not _is_not_found(exc) and _error_code(exc) != "NoSuchBucket":
                raise StorageError(f"S3 bucket {self.bucket!r} is not usable: {exc}") from exc
        params: dict[str, Any] = {"Bucket": self.bucket}
        if region and region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            self.client.create_bucket(**params)
        except ClientError as exc:
            if _error_code(exc) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise StorageError(f"cannot create S3 bucket {self.bucket!r}: {exc}") from exc

    def _extra_args(self, key: str, content_type: str | None) -> dict[str, str]:
        """Return upload ExtraArgs carrying the (given or guessed) content type."""
        ctype = content_type or mimetypes.guess_type(key, strict=False)[0]
        return {"ContentType": ctype} if ctype else {}

    def _head(self, key: str) -> dict[str, Any]:
        """Return HeadObject for ``key``; ObjectNotFound if missing."""
        with self._errors("head", key):
            result: dict[str, Any] = self.client.head_object(
                Bucket=self.bucket, Key=self._full(key)
            )
        return result

    # ---- hooks -------------------------------------------------------------------

    def _put(self, key: str, fileobj: BinaryIO, content_type: str | None) -> int:
        """Stream ``fileobj`` through boto3's managed (multipart when large) upload."""
        reader = _SequentialReader(fileobj)
        with self._errors("upload", key, not_found=False):
            self.client.upload_fileobj(
                reader,
                self.bucket,
                self._full(key),
                ExtraArgs=self._extra_args(key, content_type),
                Config=self._transfer,
            )
        return reader.bytes_read

    def _put_file(self, key: str, path: Path, content_type: str | None) -> int:
        """Upload a local file with ranged, concurrent part reads."""
        size = path.stat().st_size
        with self._errors("upload", key, not_found=False):
            self.client.upload_file(
                str(path),
                self.bucket,
                self._full(key),
                ExtraArgs=self._extra_args(key, content_type),
                Config=self._transfer,
            )
        return size

    def _start_multipart(self, key: str, content_type: str | None) -> str:
        """CreateMultipartUpload."""
        with self._errors("multipart start", key, not_found=False):
            result = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=self._full(key), **self._extra_args(key, content_type)
            )
        return str(result["UploadId"])

    def _upload_part(
        self, key: str, upload_id: str, number: int, fileobj: BinaryIO, size: int
    ) -> UploadedPart:
        """UploadPart from a seekable file (botocore may read it twice for its checksum)."""
        with self._errors("multipart part upload", key, not_found=False):
            result = self.client.upload_part(
                Bucket=self.bucket,
                Key=self._full(key),
                UploadId=upload_id,
                PartNumber=number,
                Body=fileobj,
                ContentLength=size,
            )
        return UploadedPart(number, str(result["ETag"]), size)

    def _complete_multipart(self, key: str, upload_id: str, parts: list[UploadedPart]) -> None:
        """CompleteMultipartUpload."""
        listed = [{"PartNumber": p.number, "ETag": p.etag} for p in parts]
        with self._errors("multipart complete", key, not_found=False):
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self._full(key),
                UploadId=upload_id,
                MultipartUpload={"Parts": listed},
            )

    def _abort_multipart(self, key: str, upload_id: str) -> None:
        """AbortMultipartUpload; an upload S3 no longer knows is already gone."""
        try:
            with self._errors("multipart abort", key, not_found=False):
                self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=self._full(key), UploadId=upload_id
                )
        except StorageError as exc:
            cause = exc.__cause__
            if isinstance(cause, ClientError) and _error_code(cause) in ("NoSuchUpload", "404"):
                return
            raise

    def _open(self, key: str) -> contextlib.AbstractContextManager[BinaryIO]:
        """Start a GetObject and return a buffered reader over its body."""
        with self._errors("get", key):
            response = self.client.get_object(Bucket=self.bucket, Key=self._full(key))
        return io.BufferedReader(_BodyReader(response["Body"], key), DEFAULT_CHUNK_SIZE)

    def _iter_range(
        self, key: str, start: int, end: int | None, chunk_size: int
    ) -> Iterator[bytes]:
        """Yield the inclusive byte range using an HTTP Range GET."""
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": self._full(key)}
        if start or end is not None:
            params["Range"] = f"bytes={start}-{'' if end is None else end}"
        with self._errors("get", key):
            try:
                response = self.client.get_object(**params)
            except ClientError as exc:
                if _error_code(exc) == "InvalidRange":
                    return  # start is at or past the end of the object
                raise
        body = response["Body"]
        try:
            with self._errors("read", key):
                yield from body.iter_chunks(chunk_size)
        finally:
            body.close()

    def _download_to(self, key: str, dest: Path) -> None:
        """Download with boto3's managed transfer (it writes a temp file and renames it)."""
        with self._errors("download", key):
            self.client.download_file(
                self.bucket, self._full(key), str(dest), Config=self._transfer
            )

    def _presigned_url(
        self, key: str, expires: int, filename: str | None, content_type: str | None
    ) -> str | None:
        """Return a presigned GetObject URL, optionally forcing download name and type."""
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": self._full(key)}
        if filename:
            params["ResponseContentDisposition"] = content_disposition(filename)
        if content_type:
            params["ResponseContentType"] = content_type
        with self._errors("presign", key):
            url: str = self._presign_client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=expires
            )
        return url

    def _delete(self, key: str) -> None:
        """Delete ``key`` (S3 does not complain if it is missing)."""
        with self._errors("delete", key, not_found=False):
            self.client.delete_object(Bucket=self.bucket, Key=self._full(key))

    def _delete_prefix(self, prefix: str) -> int:
        """Repeatedly list the first page under ``prefix`` and bulk-delete it."""
        count = 0
        with self._errors("delete", prefix, not_found=False):
            while True:
                page = self.client.list_objects_v2(
                    Bucket=self.bucket, Prefix=self._full(prefix), MaxKeys=_DELETE_BATCH
                )
                objects = [{"Key": obj["Key"]} for obj in page.get("Contents", ())]
                if not objects:
                    return count
                result = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True}
                )
                if result.get("Errors"):
                    raise StorageError(f"S3 bulk delete failed: {result['Errors'][:3]}")
                count += len(objects)

    def _exists(self, key: str) -> bool:
        """HEAD the object."""
        try:
            self._head(key)
        except ObjectNotFound:
            return False
        return True

    def _size(self, key: str) -> int:
        """Return ContentLength from HEAD."""
        return int(self._head(key)["ContentLength"])

    def _list(self, prefix: str) -> Iterator[ObjectInfo]:
        """Page through ListObjectsV2 (S3 returns keys in UTF-8 byte = code point order)."""
        paginator = self.client.get_paginator("list_objects_v2")
        skip = len(self.prefix)
        with self._errors("list", prefix, not_found=False):
            pages = paginator.paginate(
                Bucket=self.bucket,
                Prefix=self._full(prefix),
                PaginationConfig={"PageSize": self._list_page_size},
            )
            for page in pages:
                for obj in page.get("Contents", ()):
                    key = obj["Key"][skip:]
                    try:
                        validate_key(key)
                    except InvalidKey:  # e.g. "folder/" markers made by other tools
                        continue
                    yield ObjectInfo(key, int(obj["Size"]))

    def _move(self, src: str, dst: str) -> None:
        """Managed copy (multipart for big objects, metadata kept) then delete the source."""
        with self._errors("copy", src):
            self.client.copy(
                {"Bucket": self.bucket, "Key": self._full(src)},
                self.bucket,
                self._full(dst),
                Config=self._transfer,
            )
        self._delete(src)
