"""`python -m core demo seed` on a database that already has the demo data: a clear refusal, nothing added."""

from __future__ import annotations

from sqlalchemy import func, select

from core.tickets.models import Ticket


def test_seeding_twice_is_refused_with_what_to_do(db_url, session, capsys):
    from core.cli import main

    assert main(["demo", "seed", "--tickets", "60", "--days", "30"]) == 0
    capsys.readouterr()
    before = session.scalar(select(func.count()).select_from(Ticket))
    assert before == 60
    assert main(["demo", "seed", "--tickets", "60", "--days", "30"]) == 2
    err = capsys.readouterr().err
    assert "already holds the demo data" in err and "make clean-var" in err and "Traceback" not in err
    assert main(["demo", "seed", "--tickets", "60", "--if-empty"]) == 0
    assert "skipped" in capsys.readouterr().out
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Ticket)) == before
