"""The LLM path through the real `openai` client against a local OpenAI-compatible server, and its fallback."""

from __future__ import annotations

import pytest

from core.tickets import classify as clf
from core.tickets.enums import Category, CategorySource
from tests.fake_openai import FakeOpenAI
from tests.helpers import free_port

BILLING = {"subject": "Charged twice this month", "description": "Two charges of $49 on our card; refund one please."}


@pytest.fixture
def llm_env(monkeypatch):
    """Point the settings at a base URL; returns a setter."""
    from core.config import get_settings

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    clf.reset_llm_breaker()

    def point(url: str, timeout: float = 5.0) -> None:
        monkeypatch.setenv("OPENAI_BASE_URL", url)
        monkeypatch.setenv("OPENAI_TIMEOUT_SECONDS", str(timeout))
        monkeypatch.setenv("OPENAI_MODEL", "test-model")
        get_settings.cache_clear()

    yield point
    clf.reset_llm_breaker()
    get_settings.cache_clear()


def test_good_answer_is_used_and_asks_for_structured_json(llm_env):
    with FakeOpenAI(category="feature", confidence=0.81) as srv:
        llm_env(srv.base_url)
        c = clf.classify(**BILLING, reproducible=False)
    assert c.category == Category.FEATURE  # the server's answer, not the local model's
    assert c.source == CategorySource.LLM
    assert c.confidence == pytest.approx(0.81)
    assert c.llm_error is None
    [req] = srv.requests
    assert req["model"] == "test-model"
    assert req["response_format"]["type"] == "json_schema"
    assert "Charged twice this month" in req["messages"][-1]["content"]


def test_server_down_falls_back_to_the_local_model(llm_env):
    llm_env(f"http://127.0.0.1:{free_port()}/v1", timeout=2)
    c = clf.classify(**BILLING)
    assert c.category == Category.BILLING
    assert c.source == CategorySource.MODEL
    assert "Connection" in c.llm_error


def test_slow_server_beyond_the_timeout_falls_back(llm_env):
    with FakeOpenAI(mode="slow", delay=3.0) as srv:
        llm_env(srv.base_url, timeout=0.5)
        c = clf.classify(**BILLING)
    assert c.source == CategorySource.MODEL and c.category == Category.BILLING
    assert "Timeout" in c.llm_error


@pytest.mark.parametrize("mode", ["invalid", "wrong", "error"])
def test_invalid_or_failed_answer_falls_back(llm_env, mode):
    with FakeOpenAI(mode=mode) as srv:
        llm_env(srv.base_url)
        c = clf.classify(**BILLING)
    assert c.source == CategorySource.MODEL and c.category == Category.BILLING
    assert c.llm_error
    assert srv.requests  # the LLM was asked


def test_local_only_never_asks_the_llm(llm_env):
    with FakeOpenAI(category="feature") as srv:
        llm_env(srv.base_url)
        c = clf.classify(**BILLING, local_only=True)
    assert c.source == CategorySource.MODEL and c.llm_error is None
    assert srv.requests == []


def test_a_failing_llm_is_left_alone_for_a_while(llm_env):
    with FakeOpenAI(mode="error") as srv:
        llm_env(srv.base_url)
        out = clf.classify_many([BILLING] * 10)
        assert all(c.source == CategorySource.MODEL and c.category == Category.BILLING for c in out)
        assert all(c.llm_error for c in out)
        assert "skipped" in out[-1].llm_error
        # max_retries=1: two requests per failed ticket, and only the first few tickets are tried.
        asked = len(srv.requests)
        assert asked <= 2 * clf.LLM_MAX_CONSECUTIVE_FAILURES
        # The next single ticket (say, from the portal) does not wait for the dead endpoint either.
        c = clf.classify(**BILLING)
        assert c.source == CategorySource.MODEL and "skipped" in c.llm_error
        assert len(srv.requests) == asked
