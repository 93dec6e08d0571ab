"""The real Alertmanager with deploy/alertmanager.yml: firing alerts with silenced/inhibited state, and silences
(create with matchers, duration and comment; list; expire; bad input refused before anything is sent)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
from sqlalchemy import select

from core.audit.models import AuditLog
from core.auth.roles import PermissionDenied
from core.monitoring import service
from core.monitoring.alertmanager import Alertmanager, SilenceError, build_silence, parse_matchers
from core.monitoring.errors import AlertmanagerUnavailable
from tests.helpers import free_port


def _post_alert(url: str, **labels):
    now = datetime.now(timezone.utc)
    body = [{"labels": labels, "annotations": {"summary": f"{labels['alertname']} test"},
             "startsAt": (now - timedelta(minutes=1)).isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat()}]
    requests.post(f"{url}/api/v2/alerts", json=body, timeout=3).raise_for_status()


def test_alerts_show_inhibited_warning_under_a_critical_on_the_same_service(alertmanager_url):
    _post_alert(alertmanager_url, alertname="HighErrorRate", severity="critical", service="api")
    _post_alert(alertmanager_url, alertname="SlowResponseTime", severity="warning", service="api")
    _post_alert(alertmanager_url, alertname="SLABreachesRising", severity="warning", service="support")
    # Alertmanager's inhibitor learns of new alerts from its own subscription, a moment after the POST.
    deadline = time.monotonic() + 10
    while True:
        alerts = {a["alertname"]: a for a in Alertmanager(alertmanager_url).alerts()}
        if alerts["SlowResponseTime"]["state"] == "inhibited" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert alerts["HighErrorRate"]["state"] == "active"
    assert alerts["SlowResponseTime"]["state"] == "inhibited"          # same service as the critical one
    assert alerts["SLABreachesRising"]["state"] == "active"            # another service: not inhibited
    assert alerts["HighErrorRate"]["receivers"] == ["pagerduty-oncall"]
    assert alerts["SLABreachesRising"]["receivers"] == ["slack-ops"]


def test_silence_create_list_expire_with_audit(alertmanager_url, session, make_user):
    ops = make_user("ops", username="olga")
    am = Alertmanager(alertmanager_url)
    _post_alert(alertmanager_url, alertname="SLABreachesRising", severity="warning", service="support")
    sid = service.create_silence(session=session, actor=ops, matchers="alertname=SLABreachesRising, service=~sup.*",
                                 duration=timedelta(hours=2), comment="known: agent outage, fixing", alertmanager=am)
    session.commit()
    listed = {s["id"]: s for s in am.silences()}
    assert listed[sid]["state"] == "active"
    assert listed[sid]["created_by"] == "olga"
    assert listed[sid]["matchers"] == 'alertname="SLABreachesRising", service=~"sup.*"'
    assert listed[sid]["ends_at"] - listed[sid]["starts_at"] == pytest.approx(timedelta(hours=2), abs=timedelta(seconds=5))
    alert = next(a for a in am.alerts() if a["alertname"] == "SLABreachesRising")
    assert alert["state"] == "silenced" and alert["silenced_by"] == [sid]

    service.expire_silence(session=session, actor=ops, silence_id=sid, alertmanager=am)
    session.commit()
    assert {s["id"]: s for s in am.silences()}[sid]["state"] == "expired"
    actions = session.scalars(select(AuditLog.action).where(AuditLog.entity_id == sid).order_by(AuditLog.id)).all()
    assert actions == ["silence.create", "silence.expire"]


def _bad_silences():
    now = datetime.now(timezone.utc)
    return [
        ({"matchers": ""}, "at least one matcher"),
        ({"matchers": "alertname=~(unclosed"}, "does not compile"),
        ({"matchers": "alertname=~.*"}, "must not match an empty value"),
        ({"matchers": "alert name=x"}, "cannot read matcher"),
        ({"comment": "  "}, "needs a comment"),
        ({"duration": None, "ends_at": now - timedelta(hours=1), "starts_at": now}, "must be after the start"),
        ({"duration": timedelta(0)}, "must be positive"),
        ({"duration": timedelta(days=45)}, "at most 30 days"),
    ]


def test_bad_silences_are_refused_and_nothing_is_sent(alertmanager_url, session, make_user):
    ops = make_user("ops")
    am = Alertmanager(alertmanager_url)
    for kwargs, message in _bad_silences():
        args = {"matchers": "alertname=HighErrorRate", "duration": timedelta(hours=1), "comment": "maintenance"} | kwargs
        with pytest.raises(SilenceError, match=message):
            service.create_silence(session=session, actor=ops, alertmanager=am, **args)
    assert am.silences() == []
    assert session.scalars(select(AuditLog).where(AuditLog.entity == "silence")).all() == []


def test_only_ops_may_silence(alertmanager_url, session, make_user):
    agent = make_user("agent")
    with pytest.raises(PermissionDenied):
        service.create_silence(session=session, actor=agent, matchers="alertname=HighErrorRate",
                               duration=timedelta(hours=1), comment="x", alertmanager=Alertmanager(alertmanager_url))
    assert Alertmanager(alertmanager_url).silences() == []


def test_matcher_parsing():
    ms = parse_matchers('alertname="HighErrorRate"\nservice!=db, probe!~"a|b"')
    assert [str(m) for m in ms] == ['alertname="HighErrorRate"', 'service!="db"', 'probe!~"a|b"']
    req = build_silence(matchers=ms, created_by="me", comment="why", duration=timedelta(minutes=30))
    assert req.ends_at - req.starts_at == timedelta(minutes=30)


def test_alertmanager_down_is_a_typed_error_quickly():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(AlertmanagerUnavailable, match="Alertmanager at .* unreachable since"):
        Alertmanager(url, timeout=0.5).alerts()
