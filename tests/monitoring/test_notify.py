"""Notifications: PagerDuty Events v2 and Slack payloads to local HTTP servers, mail through aiosmtpd,
retries on failures, and one logged attempt per try."""

from __future__ import annotations

import pytest

from core.monitoring.models import Channel, Severity
from core.monitoring.notify import attempts_log, notify
from tests.helpers import free_port


def test_pagerduty_event_with_dedup_key(capture, settings_env, session):
    settings_env(PAGERDUTY_ROUTING_KEY="R0UTINGKEY", PAGERDUTY_URL=capture.url + "/v2/enqueue")
    capture.default = 202
    result = notify(session=session, channel=Channel.PAGERDUTY, subject="Backup failed on db-1",
                    body="pg_dump exited 1", severity=Severity.CRITICAL, dedup_key="backup-2026-11-25")
    assert result.ok
    [req] = capture.requests
    assert req["path"] == "/v2/enqueue"
    assert req["json"]["routing_key"] == "R0UTINGKEY"
    assert req["json"]["event_action"] == "trigger"
    assert req["json"]["dedup_key"] == "backup-2026-11-25"
    assert req["json"]["payload"]["summary"] == "Backup failed on db-1"
    assert req["json"]["payload"]["severity"] == "critical"
    [row] = attempts_log(session=session)
    assert (row.channel, row.status, row.http_status, row.dedup_key) == ("pagerduty", "sent", 202, "backup-2026-11-25")
    assert "R0UTINGKEY" not in row.target


def test_slack_retries_after_a_server_error_and_logs_each_attempt(capture, settings_env, session):
    settings_env(SLACK_WEBHOOK_URL=capture.url + "/services/T/B/X")
    capture.responses = [503, 200]
    result = notify(session=session, channel="slack", subject="SLA breached: AC-42", body="first response overdue",
                    backoff=0.01)
    assert result.ok and len(capture.requests) == 2
    assert "SLA breached: AC-42" in capture.requests[1]["json"]["text"]
    log = attempts_log(session=session)
    assert [(a.attempt, a.status, a.http_status) for a in reversed(log)] == [(1, "failed", 503), (2, "sent", 200)]
    assert len({a.notification_id for a in log}) == 1


def test_client_errors_are_not_retried(capture, settings_env, session):
    settings_env(SLACK_WEBHOOK_URL=capture.url + "/hook")
    capture.default = 400
    result = notify(session=session, channel=Channel.SLACK, subject="x", body="y", backoff=0.01)
    assert not result.ok and "HTTP 400" in result.error
    assert len(capture.requests) == 1


def test_unreachable_endpoint_gives_up_after_retries(settings_env, session):
    settings_env(SLACK_WEBHOOK_URL=f"http://127.0.0.1:{free_port()}/hook")
    result = notify(session=session, channel=Channel.SLACK, subject="x", body="y", retries=3, backoff=0.01)
    assert not result.ok
    assert [a.status for a in result.attempts] == ["failed", "failed", "failed"]


def test_not_configured_is_logged_not_raised(settings_env, session):
    settings_env(PAGERDUTY_ROUTING_KEY=None)
    settings_env(PAGERDUTY_ROUTING_KEY="")
    result = notify(session=session, channel=Channel.PAGERDUTY, subject="x", body="y")
    assert not result.ok and "PAGERDUTY_ROUTING_KEY" in result.error
    assert [a.status for a in attempts_log(session=session)] == ["not_configured"]


def test_email_through_smtp(smtp_server, settings_env, session):
    port, messages = smtp_server
    settings_env(SMTP_URL=f"smtp://127.0.0.1:{port}")
    result = notify(session=session, channel=Channel.EMAIL, to="finance@example.com", subject="LLM cost spike",
                    body="openai spend doubled", severity="warning", dedup_key="cost-1")
    assert result.ok
    [env] = messages
    assert env.rcpt_tos == ["finance@example.com"]
    text = env.content.decode()
    assert "Subject: LLM cost spike" in text and "openai spend doubled" in text and "cost-1" in text


BAD_INPUT = [
    ({"channel": "fax"}, "unknown channel"),
    ({"severity": "apocalyptic"}, "unknown severity"),
    ({"subject": "  "}, "needs a subject"),
    ({"channel": "email", "to": None}, "recipient"),
]


def test_bad_input_is_refused_and_nothing_logged(session):
    for kwargs, message in BAD_INPUT:
        args = {"channel": "slack", "subject": "s", "body": "b"} | kwargs
        with pytest.raises(ValueError, match=message):
            notify(session=session, **args)
    assert attempts_log(session=session) == []
