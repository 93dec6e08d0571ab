"""The local categoriser, the priority/team rules and the `python -m core classify` contract."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.tickets import classify as clf
from core.tickets.enums import Category, CategorySource, Priority
from core.tickets.rules import suggest_priority, team_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _no_llm(monkeypatch):
    """These tests are about the local model: no LLM configured unless a test says so."""
    from core.config import get_settings

    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    get_settings.cache_clear()
    clf.reset_llm_breaker()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize("subject,description,expected", [
    ("Charged twice", "We see two identical charges on our card this month.", Category.BILLING),
    ("Invoice address", "Please put our new office address on the invoices from now on.", Category.BILLING),
    ("La factura no lleva el CIF", "Contabilidad no puede registrarla sin el CIF.", Category.BILLING),
    ("Dashboard takes forever", "Every morning I wait ages before anything shows up.", Category.PERFORMANCE),
    ("va lentisimo", "el agente tarda una eternidad en contestar a los clientes", Category.PERFORMANCE),
    ("Save does nothing", "I click save, the spinner shows, and after reload my changes are gone.", Category.BUG),
    ("El webhook llega dos veces", "Cada evento nos llega duplicado y se crean pedidos repetidos.", Category.BUG),
    ("How do I rotate an API key?", "Couldn't find it in the docs.", Category.QUESTION),
    ("¿Se puede conectar Slack?", "¿Cómo configuro la integración?", Category.QUESTION),
    ("Please add dark mode", "It would be great for the night shift.", Category.FEATURE),
    ("Sugerencia", "Estaría genial poder exportar las ejecuciones a CSV.", Category.FEATURE),
])
def test_local_model_categorises_varied_tickets(subject, description, expected):
    c = clf.classify(subject=subject, description=description, local_only=True)
    assert c.category == expected
    assert c.source == CategorySource.MODEL
    assert 0.0 <= c.confidence <= 1.0
    assert c.llm_error is None


def test_typos_and_missing_accents_still_categorised():
    c = clf.classify(subject="cobro duplicdo", description="nos habeis cobrado dos vecs la suscripcion de marzo",
                     local_only=True)
    assert c.category == Category.BILLING


def test_holdout_accuracy_is_at_least_90_percent():
    rep = clf.report(clf.get_model(), clf.load_holdout())
    assert rep["n"] >= 100
    assert rep["accuracy"] >= 0.90, rep["mistakes"]


def test_classify_many_keeps_order_and_matches_single_calls():
    items = [{"subject": "Refund please", "description": "We bought the annual plan by mistake."},
             {"subject": "Feature request", "description": "Please add SAML SSO with Okta."},
             {"subject": "slow runs", "description": "runs take 5 minutes instead of 5 seconds"}] * 40
    many = clf.classify_many(items, local_only=True)
    assert [c.category for c in many[:3]] == [Category.BILLING, Category.FEATURE, Category.PERFORMANCE]
    assert len(many) == 120
    single = clf.classify(**items[1], local_only=True)
    assert single.category == many[1].category and abs(single.confidence - many[1].confidence) < 1e-3


def test_ambiguous_text_gets_low_confidence():
    vague = clf.classify(subject="hello", description="hi", local_only=True)
    clear = clf.classify(subject="Charged twice for March", description="Two charges of $49 on our card, refund one",
                         local_only=True)
    assert vague.confidence < clear.confidence


def test_missing_artifact_is_retrained_from_the_corpus(tmp_path, monkeypatch):
    monkeypatch.setattr(clf, "MODEL_PATH", tmp_path / "models" / "classifier.joblib")
    clf.reset_model()
    try:
        c = clf.classify(subject="Invoice wrong", description="The VAT number is missing on our invoice.",
                         local_only=True)
        assert c.category == Category.BILLING
        assert (tmp_path / "models" / "classifier.joblib").exists()
    finally:
        clf.reset_model()


def test_priority_rules():
    assert suggest_priority(category=Category.BUG, reproducible=True) == Priority.HIGH
    assert suggest_priority(category=Category.BUG, reproducible=False) == Priority.MEDIUM
    assert suggest_priority(category=Category.BUG, reproducible=None) == Priority.MEDIUM
    assert suggest_priority(category=Category.BILLING, reproducible=None) == Priority.HIGH
    assert suggest_priority(category=Category.QUESTION, reproducible=True) == Priority.MEDIUM
    assert suggest_priority(category=Category.PERFORMANCE, reproducible=None) == Priority.MEDIUM
    assert suggest_priority(category=Category.FEATURE, reproducible=None) == Priority.LOW
    # An enterprise plan raises one step, never above high; other plans raise nothing.
    assert suggest_priority(category=Category.FEATURE, reproducible=None, plan="enterprise") == Priority.MEDIUM
    assert suggest_priority(category=Category.QUESTION, reproducible=None, plan="enterprise") == Priority.HIGH
    assert suggest_priority(category=Category.BILLING, reproducible=None, plan="enterprise") == Priority.HIGH
    assert suggest_priority(category=Category.FEATURE, reproducible=None, plan="pro") == Priority.LOW


def test_priority_rules_setting_overrides_parts_and_bad_values_are_named(monkeypatch, session, org):
    from core.config import get_settings
    from core.tickets import service
    from core.tickets.enums import Channel
    from core.tickets.rules import RulesError, parse_rules

    rules = parse_rules('{"plan_boost": {"pro": 1}, "base": {"performance": "high"}, "teams": {"billing": "support"}}')
    assert suggest_priority(category=Category.FEATURE, reproducible=None, plan="pro", rules=rules) == Priority.MEDIUM
    assert suggest_priority(category=Category.FEATURE, reproducible=None, plan="enterprise", rules=rules) == Priority.MEDIUM
    assert suggest_priority(category=Category.PERFORMANCE, reproducible=None, rules=rules) == Priority.HIGH
    assert team_for(Category.BILLING, rules) == "support" and team_for(Category.BUG, rules) == "tech"
    for bad, message in [('{"base": {"bug": "urgent"}}', "base.bug: 'urgent' is not one of high, medium, low"),
                         ('{"teams": {"sales": "x"}}', "teams: 'sales' is not one of"),
                         ('{"plan_boost": {"pro": 5}}', "plan_boost.pro: 5 is not a whole number"),
                         ('{"boost": {}}', "unknown keys: boost"), ("{nope", "not valid JSON")]:
        with pytest.raises(RulesError, match=message):
            parse_rules(bad)

    # Through the setting: an Acme (pro) question now lands as high priority.
    monkeypatch.setenv("PRIORITY_RULES", '{"plan_boost": {"pro": 1}}')
    get_settings.cache_clear()
    try:
        t = service.create_ticket(session=session, actor=org["ann"], channel=Channel.PORTAL,
                                  data={"subject": "How do I rotate API keys?", "description": "Without downtime?",
                                        "category": "question"})
        assert t.priority == Priority.HIGH
    finally:
        get_settings.cache_clear()


def test_worker_refuses_to_start_with_bad_priority_rules():
    r = subprocess.run([sys.executable, "-m", "core", "worker"], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PRIORITY_RULES": '{"base": {"bug": "urgent"}}'})
    assert r.returncode == 2 and "base.bug: 'urgent' is not one of" in r.stderr


def test_teams():
    assert {c: team_for(c) for c in Category} == {
        Category.BUG: "tech", Category.PERFORMANCE: "tech", Category.QUESTION: "support",
        Category.FEATURE: "product", Category.BILLING: "billing"}


def _cli(monkeypatch, capsys, argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    from core.cli import main

    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_answers_every_line_in_order_and_reports_bad_lines(monkeypatch, capsys):
    lines = [
        json.dumps({"subject": "Charged twice", "description": "two charges this month"}),
        "{not json",
        json.dumps({"subject": "App crashes", "description": "500 error when I save the agent", "reproducible": True}),
        json.dumps(["a", "list"]),
        json.dumps({"subject": "", "description": ""}),
        json.dumps({"subject": "Please add dark mode", "description": "", "reproducible": "yes"}),
        json.dumps({"subject": "x" * 201, "description": "too long"}),
        json.dumps({"subject": "Would love a Go SDK", "description": "", "plan": "enterprise"}),
    ]
    code, out, _ = _cli(monkeypatch, capsys, ["classify", "--local-only"], "\n".join(lines) + "\n")
    assert code == 0
    rows = [json.loads(x) for x in out.splitlines()]
    assert len(rows) == len(lines)
    assert rows[0]["category"] == "billing" and rows[0]["priority"] == "high" and rows[0]["team"] == "billing"
    assert rows[0]["source"] == "model" and 0 <= rows[0]["confidence"] <= 1
    assert "JSON" in rows[1]["error"]
    assert rows[2]["category"] == "bug" and rows[2]["priority"] == "high" and rows[2]["team"] == "tech"
    assert "object" in rows[3]["error"]
    assert "empty" in rows[4]["error"]
    assert "reproducible" in rows[5]["error"]
    assert "200" in rows[6]["error"]
    assert rows[7]["category"] == "feature" and rows[7]["priority"] == "medium" and rows[7]["team"] == "product"


def test_cli_local_only_never_calls_the_llm(monkeypatch, capsys):
    from core.config import get_settings
    from tests.fake_openai import FakeOpenAI

    with FakeOpenAI(category="feature") as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        get_settings.cache_clear()
        line = json.dumps({"subject": "Charged twice", "description": "refund one please"}) + "\n"
        _, out, _ = _cli(monkeypatch, capsys, ["classify", "--local-only"], line)
        assert json.loads(out)["source"] == "model"
        assert srv.requests == []
        _, out, _ = _cli(monkeypatch, capsys, ["classify"], line)
        assert json.loads(out)["source"] == "llm" and json.loads(out)["category"] == "feature"
        assert len(srv.requests) == 1


def test_cli_handles_many_lines_in_one_process(tmp_path):
    """The real command as a user runs it: thousands of lines through a pipe, one answer per line, in order."""
    subjects = ["Charged twice", "How do I invite a teammate?", "Everything is so slow today",
                "Please add SSO", "Error 500 on save"]
    expected = ["billing", "question", "performance", "feature", "bug"]
    n = 5000
    stdin = "".join(json.dumps({"subject": subjects[i % 5], "description": f"ticket {i}"}) + "\n" for i in range(n))
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    proc = subprocess.run([sys.executable, "-m", "core", "classify", "--local-only"], input=stdin, text=True,
                          capture_output=True, cwd=ROOT, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(x) for x in proc.stdout.splitlines()]
    assert len(rows) == n
    assert [r["category"] for r in rows[:5]] == expected
    assert [r["category"] for r in rows[-5:]] == expected


def test_cli_evaluate_prints_accuracy_and_per_category_metrics(monkeypatch, capsys):
    code, out, _ = _cli(monkeypatch, capsys, ["classify", "evaluate"])
    assert code == 0
    assert "held-out 20% of the corpus" in out and "holdout.jsonl" in out
    for cat in Category:
        assert cat.value in out
    assert "precision" in out and "recall" in out
