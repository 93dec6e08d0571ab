"""`python -m core monitoring secrets` renders Alertmanager's config from the settings: the real Alertmanager
mails a cost alert through SMTP_URL's server, logged in as its user, from MAIL_FROM's address."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
import requests
import yaml

from core.config import ROOT
from core.monitoring import receivers
from tests.helpers import free_port, need_binary, wait_http
from tests.monitoring.conftest import stop_process
from tests.monitoring.test_live import _poll


@pytest.fixture
def auth_smtp():
    """An aiosmtpd server on loopback that wants a login (no TLS on loopback); yields (port, messages, logins).
    It offers AUTH PLAIN only: aiosmtpd's LOGIN prompts ("User Name") are not the ones Alertmanager expects."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    messages, logins = [], []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
            messages.append(envelope)
            return "250 OK"

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=(auth_data.login, auth_data.password) == (b"alerts", b"s3cr:t"))

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_require_tls=False, auth_required=True, auth_exclude_mechanism=["LOGIN"])
    controller.start()
    try:
        yield port, messages, logins
    finally:
        controller.stop()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_rendered_config_sends_cost_mail_through_smtp_url_with_its_login(tmp_path, settings_env, auth_smtp):
    am_bin, amtool = need_binary("prometheus-alertmanager", "alertmanager"), need_binary("amtool")
    port, messages, logins = auth_smtp
    settings_env(SMTP_URL=f"smtp://alerts:s3cr%3At@127.0.0.1:{port}", MAIL_FROM="Ops <ops@example.org>",
                 PAGERDUTY_ROUTING_KEY=None, SLACK_WEBHOOK_URL="https://hooks.slack.test/services/T/B/X")
    r = receivers.write_runtime_config(var=tmp_path / "var")
    assert r.smarthost == f"127.0.0.1:{port}" and r.smtp_user == "alerts"
    assert sorted(r.secrets_written) == ["slack_webhook_url", "smtp_password"]
    assert (tmp_path / "var" / "secrets" / "smtp_password").read_text() == "s3cr:t"
    config = r.config_path
    check = subprocess.run([amtool, "check-config", str(config)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    cfg = yaml.safe_load(config.read_text())
    assert cfg["route"] == yaml.safe_load((ROOT / "deploy" / "alertmanager.yml").read_text())["route"]

    # the real Alertmanager on the rendered file (mail waits shortened), started away from the repository
    config.write_text(config.read_text().replace("group_wait: 1m", "group_wait: 0s"))
    am_port = free_port()
    proc = subprocess.Popen([am_bin, f"--config.file={config}", f"--storage.path={tmp_path / 'am'}",
                             f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address="],
                            stdout=open(tmp_path / "am.log", "w"), stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        url = f"http://127.0.0.1:{am_port}"
        wait_http(url + "/-/ready")
        now = datetime.now(timezone.utc)
        requests.post(url + "/api/v2/alerts", timeout=3, json=[{
            "labels": {"alertname": "UnusualCostSpike", "severity": "warning", "service": "llm", "category": "cost"},
            "annotations": {"summary": "LLM cost in the last hour is $42.00", "runbook": "docs/runbooks/monitoring.md"},
            "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat()}]).raise_for_status()
        assert _poll(lambda: messages, timeout=30), (tmp_path / "am.log").read_text()[-3000:]
    finally:
        stop_process(proc)
    assert ("alerts", "s3cr:t") in logins
    mail = messages[0]
    assert mail.mail_from == "ops@example.org"
    assert mail.rcpt_tos == ["finance-ops@aftercare.local"]
    assert b"UnusualCostSpike" in mail.content


def test_without_smtp_url_the_deploy_defaults_stay_and_no_login_is_configured(tmp_path, settings_env):
    settings_env(SMTP_URL=None, PAGERDUTY_ROUTING_KEY=None, SLACK_WEBHOOK_URL=None)
    secrets = tmp_path / "var" / "secrets"
    secrets.mkdir(parents=True)
    (secrets / "smtp_password").write_text("old")          # left from an earlier SMTP_URL
    r = receivers.write_runtime_config(var=tmp_path / "var")
    assert r.smarthost == "127.0.0.1:25" and r.smtp_user is None and r.secrets_written == []
    assert not (secrets / "smtp_password").exists()
    mail = next(x for x in yaml.safe_load(r.config_path.read_text())["receivers"] if x["name"] == "mail-finance")
    assert "auth_username" not in mail["email_configs"][0] and "auth_password_file" not in mail["email_configs"][0]


def test_alert_mail_to_sets_the_cost_alert_recipients_and_a_bad_address_is_refused(tmp_path, settings_env):
    settings_env(SMTP_URL=None, ALERT_MAIL_TO="finops@example.org, cto@example.org")
    r = receivers.write_runtime_config(var=tmp_path / "var")
    mail = next(x for x in yaml.safe_load(r.config_path.read_text())["receivers"] if x["name"] == "mail-finance")
    assert [c["to"] for c in mail["email_configs"]] in (["finops@example.org, cto@example.org"],
                                                        ["finops@example.org", "cto@example.org"])
    settings_env(ALERT_MAIL_TO="finops at example")
    with pytest.raises(receivers.ReceiverConfigError, match="ALERT_MAIL_TO: 'finops at example' is not a mail address"):
        receivers.write_runtime_config(var=tmp_path / "other")


@pytest.mark.parametrize("smtp_url, message", [("http://mail.example.org", "smtp:// or smtps://"),
                                               ("smtps://mail.example.org:587", "only on port 465")])
def test_a_bad_smtp_url_is_refused_and_nothing_is_written(tmp_path, settings_env, smtp_url, message):
    settings_env(SMTP_URL=smtp_url)
    with pytest.raises(receivers.ReceiverConfigError, match=message):
        receivers.write_runtime_config(var=tmp_path / "var")
    assert not (tmp_path / "var").exists()


def test_the_cli_says_what_it_rendered_and_refuses_bad_settings(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SMTP_URL": "ftp://x"}
    r = subprocess.run([sys.executable, "-m", "core", "monitoring", "secrets"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "nothing written" in r.stderr and "smtp://" in r.stderr
