"""Storage targets for artifacts: `file:///path` and `s3://bucket/prefix?region=...&endpoint=...`."""

from __future__ import annotations

import os
import shutil
from abc import ABC, abstractmethod
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from core.backups.manifest import artifact_key, manifest_key, valid_backup_id


class StorageError(Exception):
    """A target could not be read or written (unreachable, denied, missing object)."""

    def __init__(self, message: str, *, missing: bool = False):
        super().__init__(message)
        self.missing = missing  # the target answered: the object is not there


class Target(ABC):
    """One place artifacts live. `name` is the target's URL without its query (safe to show and label)."""

    name: str
    url: str

    @abstractmethod
    def put_file(self, local: Path, key: str, *, sha256: str | None = None) -> None:
        """Implemented by each kind of target."""

    @abstractmethod
    def put_bytes(self, data: bytes, key: str) -> None:
        """Implemented by each kind of target."""

    @abstractmethod
    def get_file(self, key: str, local: Path) -> None:
        """Implemented by each kind of target."""

    @abstractmethod
    def get_bytes(self, key: str) -> bytes:
        """Implemented by each kind of target."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Implemented by each kind of target."""

    @abstractmethod
    def keys(self) -> list[str]:
        """Implemented by each kind of target."""

    def backup_ids(self) -> list[str]:
        """Ids of complete backups here (the manifest is written last, so it marks a complete copy)."""
        out = []
        for key in self.keys():
            if key.endswith(".manifest.json"):
                bid = key[: -len(".manifest.json")]
                if valid_backup_id(bid):
                    out.append(bid)
        return sorted(out)

    def delete_backup(self, backup_id: str) -> None:
        """Remove a backup: its manifest first, so a half-deleted backup never looks complete."""
        self.delete(manifest_key(backup_id))
        self.delete(artifact_key(backup_id))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


class FileTarget(Target):
    def __init__(self, url: str):
        parsed = urlparse(url)
        self.url = url
        self.root = Path(parsed.path)
        self.name = f"file://{self.root}"

    def _path(self, key: str) -> Path:
        return self.root / key

    def _atomic_write(self, key: str, writer) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".partial-")
            try:
                with os.fdopen(fd, "wb") as f:
                    writer(f)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, self._path(key))
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise StorageError(f"{self.name}: cannot write {key}: {exc.strerror or exc}") from exc

    def put_file(self, local: Path, key: str, *, sha256: str | None = None) -> None:
        def writer(f):
            with open(local, "rb") as src:
                shutil.copyfileobj(src, f, 1 << 20)

        self._atomic_write(key, writer)

    def put_bytes(self, data: bytes, key: str) -> None:
        self._atomic_write(key, lambda f: f.write(data))

    def get_file(self, key: str, local: Path) -> None:
        try:
            shutil.copyfile(self._path(key), local)
        except OSError as exc:
            raise StorageError(f"{self.name}: cannot read {key}: {exc.strerror or exc}",
                               missing=isinstance(exc, FileNotFoundError)) from exc

    def get_bytes(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except OSError as exc:
            raise StorageError(f"{self.name}: cannot read {key}: {exc.strerror or exc}",
                               missing=isinstance(exc, FileNotFoundError)) from exc

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"{self.name}: cannot delete {key}: {exc.strerror or exc}") from exc

    def keys(self) -> list[str]:
        if not self.root.exists():
            return []
        try:
            return sorted(p.name for p in self.root.iterdir() if p.is_file() and not p.name.startswith("."))
        except OSError as exc:
            raise StorageError(f"{self.name}: cannot list: {exc.strerror or exc}") from exc


class S3Target(Target):
    """An S3 bucket (any S3-compatible endpoint); credentials from the standard AWS_* settings."""

    MULTIPART_THRESHOLD = 16 * 1024 * 1024
    MULTIPART_CHUNK = 16 * 1024 * 1024

    def __init__(self, url: str):
        parsed = urlparse(url)
        q = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        self.url = url
        self.bucket = parsed.netloc
        self.prefix = parsed.path.strip("/")
        self.region = q.get("region") or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        self.endpoint = q.get("endpoint")
        self.sse = q.get("sse")                      # AES256 or aws:kms
        self.kms_key_id = q.get("kms_key_id")
        self.storage_class = q.get("storage_class")  # e.g. STANDARD_IA, GLACIER_IR
        self.name = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        if not self.bucket:
            raise StorageError(f"{url}: an S3 target needs a bucket (s3://bucket/prefix)")
        self._client = None

    @property
    def client(self):
        if self._client is None:
            import boto3
            from botocore.config import Config

            cfg = Config(region_name=self.region, connect_timeout=3, read_timeout=30,
                         retries={"max_attempts": 2, "mode": "standard"})
            self._client = boto3.client("s3", endpoint_url=self.endpoint, config=cfg)
        return self._client

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _fail(self, what: str, key: str, exc: Exception) -> StorageError:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", "")) if hasattr(exc, "response") else ""
        missing = code in {"404", "NoSuchKey", "NotFound"}
        return StorageError(f"{self.name}: cannot {what} {key}: {detail}", missing=missing)

    def _extra(self, sha256: str | None = None) -> dict:
        extra: dict = {}
        if self.sse:
            extra["ServerSideEncryption"] = self.sse
            if self.kms_key_id:
                extra["SSEKMSKeyId"] = self.kms_key_id
        if self.storage_class:
            extra["StorageClass"] = self.storage_class
        if sha256:
            extra["Metadata"] = {"sha256": sha256}
        return extra

    def put_file(self, local: Path, key: str, *, sha256: str | None = None) -> None:
        from boto3.s3.transfer import TransferConfig

        cfg = TransferConfig(multipart_threshold=self.MULTIPART_THRESHOLD, multipart_chunksize=self.MULTIPART_CHUNK,
                             max_concurrency=4, use_threads=True)
        try:
            self.client.upload_file(str(local), self.bucket, self._key(key), ExtraArgs=self._extra(sha256), Config=cfg)
        except Exception as exc:  # botocore raises many unrelated types for one outcome: not stored
            raise self._fail("upload", key, exc) from exc

    def put_bytes(self, data: bytes, key: str) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, **self._extra())
        except Exception as exc:
            raise self._fail("upload", key, exc) from exc

    def get_file(self, key: str, local: Path) -> None:
        try:
            self.client.download_file(self.bucket, self._key(key), str(local))
        except Exception as exc:
            raise self._fail("download", key, exc) from exc

    def get_bytes(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except Exception as exc:
            raise self._fail("download", key, exc) from exc

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            raise self._fail("delete", key, exc) from exc

    def keys(self) -> list[str]:
        out: list[str] = []
        prefix = f"{self.prefix}/" if self.prefix else ""
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                out += [o["Key"][len(prefix):] for o in page.get("Contents", [])]
        except Exception as exc:
            raise self._fail("list", "objects", exc) from exc
        return sorted(k for k in out if "/" not in k)


def parse_target(url: str) -> Target:
    """A Target for one URL; StorageError with a clear message for an unknown scheme."""
    url = url.strip()
    scheme = urlparse(url).scheme
    if scheme == "file":
        return FileTarget(url)
    if scheme == "s3":
        return S3Target(url)
    raise StorageError(f"unknown backup target {url!r}: use file:///path or s3://bucket/prefix?region=...")


def parse_targets(spec: str | None = None) -> list[Target]:
    """The targets of BACKUP_TARGETS (comma-separated), in order; the first healthy one serves restores."""
    if spec is None:
        from core.config import get_settings

        spec = get_settings().backup_targets
    targets = [parse_target(part) for part in (spec or "").split(",") if part.strip()]
    if not targets:
        raise StorageError("BACKUP_TARGETS is empty: set at least one target (file:///path or s3://bucket/prefix)")
    return targets
