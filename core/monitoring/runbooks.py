"""The runbook section an alert's `runbook` annotation points at (docs/runbooks/<file>.md#<anchor>), read from
the repository so the on-call person sees the steps next to the alert instead of a path to look up."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from core.config import ROOT

RUNBOOKS = ROOT / "docs" / "runbooks"


def slug(heading: str) -> str:
    """A Markdown heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def section(ref: str) -> str | None:
    """The Markdown under the heading `ref` names ("docs/runbooks/monitoring.md#servicedown"), up to the next
    heading of the same or a higher level; None when the reference does not lead to one (never a file
    outside docs/runbooks)."""
    path_part, _, anchor = (ref or "").strip().partition("#")
    if not path_part or not anchor:
        return None
    path = (ROOT / path_part).resolve()
    if path.parent != RUNBOOKS.resolve() or path.suffix != ".md" or not path.is_file():
        return None
    return _sections(path, path.stat().st_mtime).get(anchor.lower())


@lru_cache(maxsize=16)
def _sections(path: Path, _mtime: float) -> dict[str, str]:
    out: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    heads = [(i, len(m.group(1)), m.group(2)) for i, line in enumerate(lines)
             if (m := re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line))]
    for n, (i, level, title) in enumerate(heads):
        end = next((j for j, lv, _ in heads[n + 1:] if lv <= level), len(lines))
        out[slug(title)] = "\n".join(lines[i + 1:end]).strip()
    return out
