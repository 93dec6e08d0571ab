"""The configs in deploy/ pass promtool and amtool, and every alert rule's promtool tests pass."""

from __future__ import annotations

import subprocess

import yaml

from tests.helpers import need_binary
from tests.monitoring.conftest import DEPLOY

CONTRACT = {"HighErrorRate": "critical", "SlowResponseTime": "warning", "UnusualCostSpike": "warning",
            "ServiceDown": "critical", "BackupTooOld": "critical", "SLABreachesRising": "warning",
            "RestoreDrillFailed": "warning", "BackupTargetFailing": "warning", "WorkerDown": "critical"}


def _run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_promtool_check_config_accepts_prometheus_yml():
    r = _run(need_binary("promtool"), "check", "config", str(DEPLOY / "prometheus.yml"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 rule files found" in r.stdout + r.stderr


def test_promtool_check_rules_accepts_alerts_yml():
    r = _run(need_binary("promtool"), "check", "rules", str(DEPLOY / "alerts.yml"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "9 rules found" in r.stdout + r.stderr


def test_promtool_rule_tests_pass():
    r = _run(need_binary("promtool"), "test", "rules", str(DEPLOY / "alerts_test.yml"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS" in r.stdout + r.stderr


def test_every_contract_alert_has_severity_summary_runbook_and_tests():
    rules = {r["alert"]: r for g in yaml.safe_load((DEPLOY / "alerts.yml").read_text())["groups"] for r in g["rules"]}
    assert set(rules) == set(CONTRACT)
    tests_text = (DEPLOY / "alerts_test.yml").read_text()
    for name, severity in CONTRACT.items():
        rule = rules[name]
        assert rule["labels"]["severity"] == severity
        assert rule["labels"]["service"]
        assert rule["annotations"]["summary"] and rule["annotations"]["runbook"]
        # at least one firing test and one quiet test per alert
        assert tests_text.count(name) >= 2, name


def test_amtool_accepts_alertmanager_yml_with_routes_and_inhibition():
    r = _run(need_binary("amtool"), "check-config", str(DEPLOY / "alertmanager.yml"))
    assert r.returncode == 0, r.stdout + r.stderr
    cfg = yaml.safe_load((DEPLOY / "alertmanager.yml").read_text())
    routes = {tuple(r["matchers"]): r["receiver"] for r in cfg["route"]["routes"]}
    assert routes[('severity="critical"',)] == "pagerduty-oncall"
    assert routes[('severity="warning"',)] == "slack-ops"
    assert routes[('category="cost"',)] == "mail-finance"
    assert cfg["inhibit_rules"][0]["equal"] == ["service"]


def test_amtool_routes_each_alert_to_its_receiver():
    amtool = need_binary("amtool")
    cases = {"alertname=HighErrorRate severity=critical service=api": "pagerduty-oncall",
             "alertname=SlowResponseTime severity=warning service=api": "slack-ops",
             "alertname=UnusualCostSpike severity=warning service=llm category=cost": "mail-finance",
             "alertname=WorkerDown severity=critical service=worker": "pagerduty-oncall"}
    for labels, receiver in cases.items():
        r = _run(amtool, "config", "routes", "test", f"--config.file={DEPLOY / 'alertmanager.yml'}", *labels.split())
        assert r.returncode == 0, r.stdout + r.stderr
        assert r.stdout.strip() == receiver, (labels, r.stdout)
