"""The real Prometheus on backfilled history: alert intervals, uptime per probe, KPIs and rules, checked
against values computed by hand from the backfilled samples."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from core.monitoring import history, kpis, queries
from core.monitoring.errors import PrometheusUnavailable, QueryError, down_since
from core.monitoring.prom import Prometheus
from tests.helpers import free_port
from tests.monitoring.conftest import start_prometheus, stop_process

# The end of the backfilled history: a whole hour, an hour ago (Prometheus ingests the past, not the future).
E = (int(time.time()) // 3600) * 3600 - 3600
DAY = 86400


def _family(name: str, kind: str, series: list[tuple[str, list[tuple[int, float]]]]) -> str:
    lines = [f"# TYPE {name} {kind}"]
    for labels, samples in series:
        lines += [f"{name}{{{labels}}} {v:g} {t}" for t, v in samples]
    return "\n".join(lines) + "\n"


def _history() -> str:
    # ALERTS every 15 s while an alert fires (as the rule evaluator writes it).
    def every15(a, b, value=1):
        return [(t, value) for t in range(a, b + 1, 15)]

    alerts = _family("ALERTS", "gauge", [
        ('alertname="HighErrorRate",alertstate="pending",service="api",severity="critical"', every15(E - 3 * 3600 - 300, E - 3 * 3600 - 15)),
        ('alertname="HighErrorRate",alertstate="firing",service="api",severity="critical"',
         every15(E - 3 * 3600, E - 2 * 3600 - 1800) + every15(E - 3600, E - 2400)),
        ('alertname="ServiceDown",alertstate="firing",probe="api",service="api",severity="critical"',
         every15(E - 1200, E)),
        # a long one: firing from four days ago until one day ago (a sample a minute keeps the backfill small)
        ('alertname="BackupTooOld",alertstate="firing",service="backups",severity="critical",target="file"',
         [(t, 1) for t in range(E - 4 * DAY, E - DAY + 1, 60)]),
    ])
    # probe_success every 5 minutes for 30 days: "api" fails 1 h in the last day and 3 h five days ago.
    api, console = [], []
    for k in range(30 * 288, -1, -1):
        t = E - k * 300
        down = (E - 2 * 3600 < t <= E - 3600) or (E - 5 * DAY < t <= E - 5 * DAY + 3 * 3600)
        api.append((t, 0 if down else 1))
        console.append((t, 1))
    # "docs": a month up, then a second series of it (other labels, as after an exporter restart) down for its
    # last three samples only: those three results must weigh three samples, not half of everything.
    probes = _family("probe_success", "gauge", [('probe="api",url="http://127.0.0.1:9465/healthz"', api),
                                                ('probe="console",url="http://127.0.0.1:8501/_stcore/health"', console),
                                                ('probe="docs",url="http://127.0.0.1:8000/"', console),
                                                ('probe="docs",instance="worker:9108",job="aftercare"',
                                                 [(E - 600, 0), (E - 300, 0), (E, 0)])])
    # Requests every minute for 2 h: 100 ok and, in the last hour, 3 errors a minute.
    ok = [(E - k * 60, 100 * (120 - k)) for k in range(120, -1, -1)]
    err = [(E - k * 60, 3 * max(0, 60 - k)) for k in range(120, -1, -1)]
    requests = _family("http_request_duration_seconds_count", "counter",
                       [('method="GET",route="/api/agents",status_code="200"', ok),
                        ('method="POST",route="/api/agents/run",status_code="500"', err)])
    return alerts + probes + requests + "# EOF\n"


@pytest.fixture(scope="module")
def prom_url(tmp_path_factory):
    """One Prometheus for the module (backfilling 30 days takes a few seconds)."""
    url, proc = start_prometheus(tmp_path_factory.mktemp("prom"), _history())
    try:
        yield url
    finally:
        stop_process(proc)


def at(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)


def test_history_builds_firing_intervals_from_alerts(prom_url):
    got = history.firing_intervals(prom=Prometheus(prom_url), start=at(E - 4 * 3600), end=at(E))
    assert [(i.alertname, i.starts_at, i.ends_at) for i in got] == [
        ("ServiceDown", at(E - 1200), None),                       # still firing at the end of the range
        ("HighErrorRate", at(E - 3600), at(E - 2400)),
        ("HighErrorRate", at(E - 3 * 3600), at(E - 2 * 3600 - 1800)),
    ]
    assert got[1].duration() == timedelta(minutes=20)
    assert got[2].duration() == timedelta(minutes=30)
    assert got[0].labels == {"alertname": "ServiceDown", "probe": "api", "service": "api", "severity": "critical"}


def test_history_filters_by_alert_and_range(prom_url):
    got = history.firing_intervals(prom=Prometheus(prom_url), start=at(E - 2 * 3600), end=at(E - 1800),
                                   alertname="HighErrorRate")
    assert [(i.starts_at, i.ends_at) for i in got] == [(at(E - 3600), at(E - 2400))]


def test_history_stitches_chunks_without_splitting_intervals(prom_url, monkeypatch):
    monkeypatch.setattr(history, "POINTS_PER_QUERY", 7)   # many small queries over the same range
    got = history.firing_intervals(prom=Prometheus(prom_url), start=at(E - 4 * 3600), end=at(E))
    assert [(i.alertname, i.starts_at, i.ends_at) for i in got][1:] == [
        ("HighErrorRate", at(E - 3600), at(E - 2400)), ("HighErrorRate", at(E - 3 * 3600), at(E - 2 * 3600 - 1800))]


def test_an_interval_begun_before_the_range_keeps_its_real_start_and_triage_key(prom_url, session, make_user):
    from core.monitoring import triage

    prom = Prometheus(prom_url)
    # "the last N hours" rolls every minute: two views starting inside the HighErrorRate interval (E-3h..E-2h30m)
    views = [history.firing_intervals(prom=prom, start=at(E - 3 * 3600 + 600 + k * 60), end=at(E),
                                      alertname="HighErrorRate") for k in (0, 1)]
    for got in views:
        oldest = got[-1]
        assert (oldest.starts_at, oldest.ends_at, oldest.started_before) == (at(E - 3 * 3600), at(E - 2 * 3600 - 1800), False)
        assert oldest.duration() == timedelta(minutes=30)
        assert oldest.start_text == f"{at(E - 3 * 3600):%Y-%m-%d %H:%M} UTC"
    # a verdict given in the first view is found in the second (same key, looked up from the real start)
    triage.triage_interval_of(session=session, actor=make_user("ops"), interval=views[0][-1], verdict="actionable")
    later = views[1][-1]
    found = triage.verdicts(session=session, start=min(i.starts_at for i in views[1]), end=at(E))
    assert found[(later.alertname, later.labels_key, later.starts_at)].verdict == "actionable"


def test_an_interval_begun_days_before_the_range_is_found_across_lookback_chunks(prom_url):
    got = history.firing_intervals(prom=Prometheus(prom_url), start=at(E - 2 * DAY), end=at(E - 1800),
                                   alertname="BackupTooOld")
    assert [(i.starts_at, i.ends_at, i.started_before) for i in got] == [(at(E - 4 * DAY), at(E - DAY), False)]


def test_an_interval_older_than_the_lookback_says_started_before_and_keeps_one_start(prom_url, monkeypatch):
    monkeypatch.setattr(history, "LOOKBACK_SECONDS", DAY)
    monkeypatch.setattr(history, "LOOKBACK_ALIGN_SECONDS", 3600)
    starts = []
    for k in (0, 1, 7):                # three views a few minutes apart within the same hour
        [iv] = history.firing_intervals(prom=Prometheus(prom_url), start=at(E - 2 * DAY + 600 + k * 60), end=at(E),
                                        alertname="BackupTooOld")
        assert iv.started_before and iv.ends_at == at(E - DAY)
        assert iv.start_text == f"started before {at(E - 3 * DAY):%Y-%m-%d %H:%M} UTC"
        starts.append(iv.starts_at)
    assert starts == [at(E - 3 * DAY)] * 3


def test_uptime_per_probe_over_24h_7d_30d(prom_url):
    got = queries.uptime_by_probe(prom=Prometheus(prom_url), at=at(E + 60))
    # 5-minute samples: 288 a day. api fails 12 samples in the last day and 36 more five days ago.
    assert got["api"]["24h"] == pytest.approx(276 / 288)
    assert got["api"]["7d"] == pytest.approx((2016 - 48) / 2016)
    assert got["api"]["30d"] == pytest.approx((8640 - 48) / 8640)
    assert got["console"] == {"24h": 1.0, "7d": 1.0, "30d": 1.0}
    assert got["docs"]["24h"] == pytest.approx(288 / 291)  # 3 failed results among 291, not 50%


def test_kpis_uptime_and_error_rate(prom_url, session):
    got = kpis.monitoring_kpis(session=session, start=at(E - 3600), end=at(E), prom=Prometheus(prom_url))
    # uptime over the last hour (samples after E-3600): api 12/12 up, console 12/12 up... plus the sample at E-3600
    # (inclusive window start): api's is down (the outage ends at E-3600), so api = 12/13; docs 13 up and 3 down.
    # Every probe result weighs the same: (12 + 13 + 13 + 0) of (13 + 13 + 13 + 3).
    assert got["uptime"] == pytest.approx(38 / 42)
    # errors: 3/min in the hour, ok: 100/min -> 180 / 6180
    assert got["error_rate"] == pytest.approx(180 / 6180)
    assert got["alert_accuracy"] is None
    assert "triaged" in got["_reasons"]["alert_accuracy"]


def test_panels_are_range_queries_aggregated_by_prometheus(prom_url):
    prom = Prometheus(prom_url)
    for panel in queries.PANELS:
        series = queries.panel_series(prom=prom, panel=panel, start=at(E - 7200), end=at(E))
        assert isinstance(series, list)
    err = queries.panel_series(prom=prom, panel=next(p for p in queries.PANELS if p.key == "error_rate"),
                               start=at(E - 1800), end=at(E))
    assert len(err) == 1 and err[0].points[-1][1] == pytest.approx(3 / 103)


def test_rules_and_their_state(prom_url):
    rules = Prometheus(prom_url).rules()
    assert {r["name"] for r in rules} >= {"HighErrorRate", "SlowResponseTime", "UnusualCostSpike", "ServiceDown",
                                         "BackupTooOld", "SLABreachesRising", "RestoreDrillFailed",
                                         "WorkerDown"}
    assert all(r["state"] in ("inactive", "pending", "firing") for r in rules)
    assert next(r for r in rules if r["name"] == "ServiceDown")["for"] == "2m"


def test_bad_promql_is_a_clear_query_error(prom_url):
    with pytest.raises(QueryError, match="refused the query"):
        Prometheus(prom_url).range_query("sum(", start=at(E - 600), end=at(E))


def test_prometheus_down_raises_typed_error_with_since():
    url = f"http://127.0.0.1:{free_port()}"
    prom = Prometheus(url, timeout=0.5)
    with pytest.raises(PrometheusUnavailable) as first:
        prom.range_query("up", start=at(E - 600), end=at(E))
    with pytest.raises(PrometheusUnavailable) as second:
        prom.instant_query("up")
    assert "Prometheus" in str(first.value) and url in str(first.value) and "since" in str(first.value)
    assert second.value.since == first.value.since == down_since(url)


def test_slow_prometheus_times_out(capture):
    capture.slow = True           # answers after 10 s (or at teardown)
    prom = Prometheus(capture.url, timeout=0.3)
    with pytest.raises(PrometheusUnavailable, match="timed out") as first:
        prom.range_query("up", start=at(E - 600), end=at(E))
    # the next chart on the page fails at once with the same story instead of waiting again
    with pytest.raises(PrometheusUnavailable, match="timed out") as second:
        prom.rules()
    assert second.value.since == first.value.since


def test_kpis_say_prometheus_is_down_and_still_give_accuracy(session):
    prom = Prometheus(f"http://127.0.0.1:{free_port()}", timeout=0.5)
    got = kpis.monitoring_kpis(session=session, start=at(E - 3600), end=at(E), prom=prom)
    assert got["uptime"] is None and got["error_rate"] is None
    assert "Prometheus" in got["_reasons"]["uptime"] and "since" in got["_reasons"]["error_rate"]


def test_grafana_dashboard_queries_are_valid_promql(prom_url):
    import json

    from tests.monitoring.conftest import DEPLOY

    dash = json.loads((DEPLOY / "grafana" / "aftercare.json").read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    assert len(exprs) >= 10
    prom = Prometheus(prom_url)
    for expr in exprs:
        prom.range_query(expr.replace("$__rate_interval", "5m"), start=at(E - 3600), end=at(E))   # no QueryError
