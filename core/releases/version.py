"""Which code this is: `git describe` and the commit, the same for a release record and a process heartbeat."""

from __future__ import annotations

import subprocess
from pathlib import Path

from core.config import ROOT


def git_version(repo: Path = ROOT) -> tuple[str, str | None]:
    """(`git describe --tags --always`, the commit hash); ("unknown", None) outside a git checkout."""
    def run(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else None

    return run("describe", "--tags", "--always") or "unknown", run("rev-parse", "HEAD")
