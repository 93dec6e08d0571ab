"""`tickets import`: JSONL and CSV, one validation path, bad rows reported by line, idempotent on external_id."""

import json
import subprocess
import sys

from sqlalchemy import func, select

from core.mail.models import OutboxMessage
from core.tickets.imports import import_file
from core.tickets.models import Ticket


def _rows(org):
    return [
        {"external_id": "zd-1", "requester_email": "ann@acme.example", "account": "acme",
         "subject": "Invoice shows the wrong amount", "description": "We were charged twice for November.",
         "created_at": "2026-11-02T10:00:00Z", "status": "solved", "first_response_at": "2026-11-02T10:30:00Z",
         "solved_at": "2026-11-03T09:00:00Z"},
        {"external_id": "zd-2", "requester_email": "new.person@acme.example", "account": "acme",
         "subject": "How do I rotate API keys?", "description": "Is there a way without downtime?",
         "reproducible": None, "category": "question"},
        {"external_id": "zd-3", "requester_email": "ann@acme.example", "account": "acme",
         "subject": "x" * 201, "description": "too long a subject"},
        {"external_id": "zd-4", "requester_email": "ann@acme.example", "account": "nope",
         "subject": "Unknown account", "description": "d"},
    ]


def test_jsonl_import_lands_good_rows_reports_bad_ones_by_line_and_is_idempotent(session, org, tmp_path):
    path = tmp_path / "tickets.jsonl"
    lines = [json.dumps(r) for r in _rows(org)] + ["{not json"]
    path.write_text("\n".join(lines) + "\n")
    report = import_file(path)
    assert report.imported == 2
    assert [n for n, _ in report.errors] == [3, 4, 5]
    msgs = dict(report.errors)
    assert "at most 200" in msgs[3] and "no account 'nope'" in msgs[4] and "not valid JSON" in msgs[5]
    session.expire_all()
    solved = session.scalar(select(Ticket).where(Ticket.external_id == "zd-1"))
    assert solved.status == "solved" and solved.solved_at is not None and solved.first_response_at is not None
    assert solved.category == "billing" and solved.category_source == "model"
    question = session.scalar(select(Ticket).where(Ticket.external_id == "zd-2"))
    assert question.category == "question" and question.category_source == "import"
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0  # imports send no mail
    # ... but a reply made here later on an imported ticket reaches the customer like any other.
    from core.tickets import service

    service.public_reply(session=session, actor=org["s1"], ticket_id=question.id, body="Yes: rotate one key at a time.")
    session.commit()
    [mail] = session.scalars(select(OutboxMessage)).all()
    assert mail.to_addr == "new.person@acme.example" and question.reference in mail.subject

    again = import_file(path)
    assert again.imported == 0 and again.already == 2
    assert session.scalar(select(func.count()).select_from(Ticket)) == 2


def test_csv_import_through_the_cli(db_url, session, org, tmp_path):
    path = tmp_path / "tickets.csv"
    path.write_text("external_id,requester_email,account,subject,description,reproducible\n"
                    "c-1,ann@acme.example,acme,Export crashes every time,Clicking export shows a blank page,true\n"
                    "c-2,ann@acme.example,acme,,missing subject,\n")
    out = subprocess.run([sys.executable, "-m", "core", "tickets", "import", str(path)], capture_output=True, text=True,
                         env={**__import__("os").environ, "DATABASE_URL": db_url})
    assert out.returncode == 0, out.stderr
    assert "line 3: subject: Subject is required" in out.stdout
    assert "imported 1, already imported 0, rejected 1" in out.stdout
    t = session.scalar(select(Ticket).where(Ticket.external_id == "c-1"))
    assert t.category == "bug" and t.priority == "high" and t.reproducible is True
