"""`python -m core classify train`: the corpus plus human category corrections from the database."""

from __future__ import annotations

import io
import shutil
import sys

import pytest

from core.tickets import classify as clf
from core.tickets.enums import Category, Channel


@pytest.fixture
def tmp_model(tmp_path, monkeypatch):
    """Training writes to a temporary artifact, never the shipped one."""
    path = tmp_path / "classifier.joblib"
    shutil.copy(clf.MODEL_PATH, path)
    monkeypatch.setattr(clf, "MODEL_PATH", path)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    clf.reset_model()
    yield path
    clf.reset_model()


def test_train_includes_human_corrections(session, org, tmp_model, monkeypatch, capsys):
    from core.cli import main
    from core.tickets import service

    # An odd in-house word the corpus has never seen; a person files it under another category, several times.
    texts = [f"zorblax number {i} needs attention" for i in range(12)]
    before = clf.classify(subject="zorblax", description=texts[0], local_only=True).category
    target = Category.FEATURE if before != Category.FEATURE else Category.QUESTION
    for text in texts:
        t = service.create_ticket(session=session, actor=org["lead"], channel=Channel.STAFF, data={
            "requester_email": "ann@acme.example", "subject": "zorblax", "description": text, "reproducible": None})
        session.flush()
        assert t.category != target
        service.change_category(session=session, actor=org["lead"], ticket_id=t.id, version=t.version,
                                category=target, reason="zorblax tickets belong there")
    session.commit()

    rows = clf.human_corrections(session=session)
    assert len(rows) == len(texts) and all(r["category"] == target for r in rows)

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main(["classify", "train"]) == 0
    out = capsys.readouterr().out
    assert f"{len(rows)} from the database" in out
    assert "holdout" in out and "accuracy" in out
    assert tmp_model.exists()
    c = clf.classify(subject="zorblax", description="zorblax number 99 needs attention", local_only=True)
    assert c.category == target


def test_train_without_database_uses_the_corpus(tmp_model, monkeypatch, capsys):
    from core.cli import main
    from core.config import get_settings

    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    get_settings.cache_clear()
    try:
        assert main(["classify", "train"]) == 0
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    assert "skipped, database not reachable" in out
    assert "trained on" in out and tmp_model.stat().st_size > 0
