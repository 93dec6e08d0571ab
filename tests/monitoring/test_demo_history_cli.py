"""The demo history backfills into the real Prometheus (charts, uptime, alert history on first start) and
the monitoring CLI commands work."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core.cli import main
from core.monitoring import history, queries
from core.monitoring.prom import Prometheus
from tests.monitoring.conftest import start_prometheus, stop_process

END = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=5)


def test_demo_history_fills_charts_uptime_and_alert_history(tmp_path):
    out = tmp_path / "demo.om"
    assert main(["demo", "traffic", "--history", str(out), "--hours", "2"]) == 0
    from core.monitoring.history_demo import write_history

    write_history(out, hours=2, end=END)          # the same, pinned to END for exact figures
    (tmp_path / "p").mkdir()
    url, proc = start_prometheus(tmp_path / "p", out.read_text())
    try:
        prom = Prometheus(url)
        # the api probe was down 10 minutes (two 5-minute samples) 20 hours before the end
        up = queries.uptime_by_probe(prom=prom, at=END)
        assert up["api"]["24h"] == pytest.approx(1 - 2 / 288, abs=1 / 288)
        assert up["console"]["30d"] == 1.0
        names = {i.alertname for i in history.firing_intervals(prom=prom, start=END - timedelta(days=1), end=END)}
        assert names == {"HighErrorRate", "ServiceDown"}
        rate = queries.panel_series(prom=prom, panel=queries.PANELS[0], start=END - timedelta(hours=1), end=END)
        assert {s.labels["route"] for s in rate} >= {"/api/agents", "/api/agents/run"}
    finally:
        stop_process(proc)


def test_notify_cli_refuses_bad_input(capsys, db_url):
    assert main(["monitoring", "notify", "--channel", "email", "--subject", "hi"]) == 2
    assert "recipient" in capsys.readouterr().err
