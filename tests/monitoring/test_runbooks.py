"""Every alert rule's runbook annotation leads to a section of docs/runbooks, shown on the Alerts page."""

import yaml

from core.config import ROOT
from core.monitoring import runbooks


def test_every_rule_has_a_runbook_section_with_steps():
    rules = [r for g in yaml.safe_load((ROOT / "deploy" / "alerts.yml").read_text())["groups"] for r in g["rules"]]
    assert rules
    for rule in rules:
        text = runbooks.section(rule["annotations"]["runbook"])
        assert text and "1." in text, rule["alert"]


def test_a_section_stops_at_the_next_heading_and_bad_references_give_nothing():
    down = runbooks.section("docs/runbooks/monitoring.md#servicedown")
    assert down.startswith("An uptime probe") and "## WorkerDown" not in down and "Prometheus has not" not in down
    for ref in ("", "docs/runbooks/monitoring.md", "docs/runbooks/monitoring.md#nosuchalert",
                "docs/runbooks/../../README.md#aftercare", "/etc/passwd#root", "README.md#aftercare"):
        assert runbooks.section(ref) is None, ref
