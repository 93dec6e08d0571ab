"""The Monitoring and Alerts pages through app.py (AppTest): banners when the backends are down, charts and
uptime from the real Prometheus, alerts and silences from the real Alertmanager, triage and silence forms."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from core.monitoring.alertmanager import Alertmanager

from core.monitoring.models import AlertTriage
from tests.helpers import free_port
from tests.monitoring.conftest import start_prometheus, stop_process

APP = "../../app.py"
E = (int(time.time()) // 60) * 60 - 120


def _history() -> str:
    lines = ["# TYPE ALERTS gauge"]
    lines += [f'ALERTS{{alertname="HighErrorRate",alertstate="firing",service="api",severity="critical"}} 1 {t}'
              for t in range(E - 3600, E - 1800 + 1, 15)]
    lines += ["# TYPE probe_success gauge"]
    lines += [f'probe_success{{probe="api",url="http://x/healthz"}} 1 {t}' for t in range(E - 7200, E + 1, 60)]
    return "\n".join(lines) + "\n# EOF\n"


@pytest.fixture
def app_as(db_url, make_user, settings_env):
    """Factory: app_as(role, prometheus=URL, alertmanager=URL) -> AppTest logged in as a new user of that role."""
    from streamlit.testing.v1 import AppTest

    def _make(role: str, *, prometheus: str | None = None, alertmanager: str | None = None):
        dead = f"http://127.0.0.1:{free_port()}"
        settings_env(PROMETHEUS_URL=prometheus or dead, ALERTMANAGER_URL=alertmanager or dead, AUTH_LOGIN_SLEEP="0")
        user = make_user(role)
        at = AppTest.from_file(APP, default_timeout=60)
        for k, v in {"authentication_status": True, "username": user.username, "name": user.name,
                     "roles": [role]}.items():
            at.session_state[k] = v
        at.run()
        return at

    yield _make


def _texts(at) -> str:
    return " ".join(str(e.value) for e in [*at.error, *at.info, *at.success, *at.markdown, *at.caption])


def test_pages_show_which_backend_is_down_and_since_when(app_as):
    at = app_as("ops")
    at.switch_page("pages/monitoring.py").run()
    assert not at.exception
    assert "Prometheus is not reachable" in _texts(at) and "since" in _texts(at)
    at.switch_page("pages/alerts.py").run()
    assert not at.exception
    assert "Alertmanager is not reachable" in _texts(at)
    assert "Prometheus is not reachable" in _texts(at)


def test_monitoring_and_alerts_pages_with_real_backends(app_as, alertmanager_url, tmp_path, session):
    url, proc = start_prometheus(tmp_path, _history())
    try:
        at = app_as("ops", prometheus=url, alertmanager=alertmanager_url)
        at.switch_page("pages/monitoring.py").run()
        assert not at.exception, [e.value for e in at.exception]
        uptime = at.dataframe[0].value
        assert list(uptime["probe"]) == ["api"] and uptime["24h"].iloc[0] == 1.0

        at.switch_page("pages/alerts.py").run()
        assert not at.exception, [e.value for e in at.exception]
        assert "Nothing is firing." in _texts(at)
        history = at.dataframe[0].value
        assert list(history["alertname"]) == ["HighErrorRate"] and history["duration_min"].iloc[0] == 30.0
        assert history["start"].iloc[0].endswith(" UTC") and "started before" not in history["start"].iloc[0]

        # triage the interval as noise with a note
        at.radio[0].set_value("noise")
        at.text_area[0].input("deploy blip")
        at.button[0].click().run()
        assert not at.exception, [e.value for e in at.exception]
        row = session.scalar(select(AlertTriage))
        assert (row.alertname, row.verdict, row.note) == ("HighErrorRate", "noise", "deploy blip")

        # a silence with a bad regex: a clear message, nothing created
        silence_form = [t for t in at.text_area if "Matchers" in t.label][0]
        silence_form.input("alertname=~(broken")
        at.text_input[0].input("maintenance")
        next(b for b in at.button if b.label == "Create silence").click().run()
        assert "does not compile" in _texts(at)
        silence_form = [t for t in at.text_area if "Matchers" in t.label][0]
        assert silence_form.value == "alertname=~(broken"  # kept, to be corrected
        silence_form.input("alertname=SlowResponseTime")
        next(b for b in at.button if b.label == "Create silence").click().run()
        assert not at.exception, [e.value for e in at.exception]
        created = next(m.value for m in at.success if m.value.startswith("Silence ") and m.value.endswith(" created."))
        sid = created.split()[1]
        assert [t for t in at.text_area if "Matchers" in t.label][0].value == ""  # a second click makes no twin

        # expiring asks for a confirmation first
        next(b for b in at.button if b.label == "Expire now").click().run()
        assert "Nothing was expired" in _texts(at)
        state = {x["id"]: x["state"] for x in Alertmanager(alertmanager_url).silences(include_expired=True)}
        assert state[sid] == "active"
        next(b for b in at.selectbox if b.label == "Silence").set_value(sid)
        next(c for c in at.checkbox if "notify again" in c.label).check()
        next(b for b in at.button if b.label == "Expire now").click().run()
        assert "Silence expired." in [m.value for m in at.success]
        state = {x["id"]: x["state"] for x in Alertmanager(alertmanager_url).silences(include_expired=True)}
        assert state[sid] == "expired"
    finally:
        stop_process(proc)


def test_agent_cannot_open_alerts(app_as):
    at = app_as("agent")
    with pytest.raises(ValueError):
        at.switch_page("pages/alerts.py").run()


def test_a_firing_alert_shows_its_runbook_steps(app_as, alertmanager_url):
    import requests
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc)
    requests.post(f"{alertmanager_url}/api/v2/alerts", timeout=3, json=[{
        "labels": {"alertname": "ServiceDown", "severity": "critical", "service": "api", "probe": "api"},
        "annotations": {"summary": "api probe failing", "runbook": "docs/runbooks/monitoring.md#servicedown"},
        "startsAt": (now - timedelta(minutes=3)).isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat()}]
    ).raise_for_status()
    at = app_as("ops", alertmanager=alertmanager_url)
    at.switch_page("pages/alerts.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert [e.label for e in at.expander if e.label.startswith("Runbook")] == ["Runbook: ServiceDown"]
    assert any("Open the probed URL" in m.value for m in at.markdown), "the runbook's steps are on the page"
