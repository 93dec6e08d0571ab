"""`tickets import FILE`: JSONL or CSV, idempotent on external_id, each bad row reported with its line."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from core.db import session_scope
from core.tickets.enums import Channel
from core.tickets.intake import IntakeError, validate
from core.tickets.models import Ticket

FIELDS = ("external_id", "requester_email", "account", "subject", "description", "reproducible", "created_at",
          "status", "category", "first_response_at", "solved_at")
CHUNK = 1000


@dataclass
class ImportReport:
    imported: int = 0
    already: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"line {n}: {msg}" for n, msg in self.errors]
        out.append(f"imported {self.imported}, already imported {self.already}, rejected {len(self.errors)}")
        return out


def read_rows(path: Path):
    """Yield (line number, dict) from a JSONL or CSV file; a row that cannot be parsed yields an error string."""
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            for row in reader:
                yield reader.line_num, {k: (v if v != "" else None) for k, v in row.items() if k}
        return
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield n, f"not valid JSON ({exc.msg})"
                continue
            yield n, obj if isinstance(obj, dict) else "not a JSON object"


def import_file(path: str | Path, *, actor="import") -> ImportReport:
    """Import tickets from path; good rows land, bad rows are reported, existing external_ids are skipped."""
    from core.tickets import classify as clf
    from core.tickets.service import after_bulk_create, create_ticket

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no file {path}")
    report = ImportReport()
    batch: list[tuple[int, object]] = []

    def flush_batch() -> None:
        if not batch:
            return
        parsed = []
        for n, row in batch:
            if isinstance(row, str):
                report.errors.append((n, row))
                continue
            if not row.get("external_id"):
                report.errors.append((n, "external_id is required"))
                continue
            try:
                parsed.append((n, validate({k: row.get(k) for k in FIELDS})))
            except IntakeError as exc:
                report.errors.append((n, str(exc)))
        with session_scope() as s:
            ids = [inp.external_id for _, inp in parsed]
            existing = set(s.scalars(select(Ticket.external_id).where(Ticket.external_id.in_(ids))))
            todo = [(n, inp) for n, inp in parsed if inp.external_id not in existing]
            report.already += len(parsed) - len(todo)
            need = [inp for _, inp in todo if inp.category is None]
            # Bulk imports use the local model: asking an LLM row by row would take hours.
            preds = iter(clf.classify_many([{"subject": i.subject, "description": i.description,
                                             "reproducible": i.reproducible} for i in need], local_only=True))
            created: list[int] = []
            seen: set[str] = set()
            for n, inp in todo:
                pred = next(preds) if inp.category is None else None
                if inp.external_id in seen:
                    report.already += 1
                    continue
                seen.add(inp.external_id)
                try:
                    with s.begin_nested():
                        t = create_ticket(session=s, actor=actor, data=inp, channel=Channel.IMPORT,
                                          classification=pred, run_hooks=False)
                    created.append(t.id)
                    report.imported += 1
                except IntakeError as exc:
                    report.errors.append((n, str(exc)))
            after_bulk_create(session=s, ticket_ids=created)
        batch.clear()

    for n, row in read_rows(path):
        batch.append((n, row))
        if len(batch) >= CHUNK:
            flush_batch()
    flush_batch()
    report.errors.sort()
    return report
