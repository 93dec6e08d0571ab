"""The manifest stored beside every artifact: what was dumped, from where, with which tools, and its checksum."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

FORMAT_VERSION = 1
ID_RE = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{6}$")


def new_backup_id(now: datetime | None = None) -> str:
    """A sortable, unique id: 20261125T020000Z-1a2b3c."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def valid_backup_id(backup_id: str) -> bool:
    """Whether backup_id has the shape of an id (checked before it is used in a storage key)."""
    return bool(ID_RE.match(backup_id or ""))


def artifact_key(backup_id: str) -> str:
    return f"{backup_id}.dump"


def manifest_key(backup_id: str) -> str:
    return f"{backup_id}.manifest.json"


@dataclass
class Manifest:
    id: str
    started_at: str
    finished_at: str
    database: str
    server_version: str
    alembic_revision: str | None
    row_counts: dict[str, int]
    size_bytes: int
    sha256: str
    tools: dict[str, str]
    format: str = "pg_dump custom (-Fc)"
    excluded_table_data: list[str] = field(default_factory=list)
    format_version: int = FORMAT_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> "Manifest":
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, data: dict) -> "Manifest":
        """A manifest from its JSON object (fields a newer version added are ignored)."""
        if not isinstance(data, dict) or not {"id", "sha256", "row_counts"} <= set(data):
            raise ValueError("not a backup manifest")
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    @property
    def created_at(self) -> datetime:
        return datetime.fromisoformat(self.started_at)


def sha256_file(path, chunk: int = 1 << 20) -> str:
    """The hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
