"""`python -m core monitoring ...`: check the deploy/ configs, probe once, write receiver secrets, test-notify."""

from __future__ import annotations

import shutil
import subprocess

from core.config import ROOT

DEPLOY = ROOT / "deploy"


def register(sub) -> None:
    mon = sub.add_parser("monitoring", help="Prometheus/Alertmanager configs, probes, notifications")
    ms = mon.add_subparsers(dest="command", metavar="<command>")
    p = ms.add_parser("check", help="promtool check config/rules, promtool test rules, amtool check-config")
    p.set_defaults(func=_check)
    p = ms.add_parser("probe", help="run the uptime probes once (PROBE_URLS) and print the results")
    p.set_defaults(func=_probe)
    p = ms.add_parser("secrets", help="write var/secrets/* and var/alertmanager.yml (deploy/alertmanager.yml + the settings)")
    p.set_defaults(func=_secrets)
    p = ms.add_parser("notify", help="send one notification through the console's notifier (logged)")
    p.add_argument("--channel", required=True, choices=["pagerduty", "slack", "email"])
    p.add_argument("--subject", required=True)
    p.add_argument("--body", default="")
    p.add_argument("--severity", default="warning", choices=["critical", "error", "warning", "info"])
    p.add_argument("--dedup-key")
    p.add_argument("--to", help="recipient address (email)")
    p.set_defaults(func=_notify)


def _check(args) -> int:
    from core.cli import CLIError

    steps = [("promtool", ["check", "config", str(DEPLOY / "prometheus.yml")]),
             ("promtool", ["test", "rules", str(DEPLOY / "alerts_test.yml")]),
             ("amtool", ["check-config", str(DEPLOY / "alertmanager.yml")])]
    failed = 0
    for tool, argv in steps:
        path = shutil.which(tool)
        if not path:
            raise CLIError(f"{tool} is not installed (apt-get install prometheus prometheus-alertmanager)")
        r = subprocess.run([path, *argv], capture_output=True, text=True, timeout=120)
        ok = r.returncode == 0
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {tool} {' '.join(argv)}")
        if not ok:
            print((r.stdout + r.stderr).strip())
    return 1 if failed else 0


def _probe(args) -> int:
    from prometheus_client import CollectorRegistry

    from core.cli import CLIError
    from core.monitoring import uptime

    try:
        probes = uptime.configured_probes()
    except ValueError as exc:
        raise CLIError(f"PROBE_URLS: {exc}") from exc
    if not probes:
        raise CLIError("no probes configured: set PROBE_URLS=name=https://host/health,...")
    results = uptime.run_probes(probes, metrics=uptime.ProbeMetrics(CollectorRegistry()))
    for r in results:
        print(f"{'up  ' if r.success else 'DOWN'} {r.probe.name:<12} {r.duration * 1000:7.1f} ms  {r.detail:<20} {r.probe.url}")
    return 0 if all(r.success for r in results) else 1


def _secrets(args) -> int:
    from core.cli import CLIError
    from core.monitoring.receivers import ReceiverConfigError, write_runtime_config

    try:
        r = write_runtime_config()
    except ReceiverConfigError as exc:
        raise CLIError(f"nothing written: {exc}") from exc
    print("wrote: " + (", ".join(r.secrets_written) if r.secrets_written
                       else "no secrets (no PAGERDUTY_ROUTING_KEY, SLACK_WEBHOOK_URL or SMTP password set)"))
    print(f"Alertmanager config: {r.config_path} (mail through {r.smarthost}"
          + (f" as {r.smtp_user}" if r.smtp_user else ", no login") + f", cost alerts to {', '.join(r.mail_to)})")
    return 0


def _notify(args) -> int:
    from core.cli import CLIError
    from core.db import session_scope
    from core.monitoring.notify import notify

    try:
        with session_scope() as s:
            result = notify(session=s, channel=args.channel, subject=args.subject, body=args.body,
                            severity=args.severity, dedup_key=args.dedup_key, to=args.to)
    except ValueError as exc:
        raise CLIError(str(exc)) from exc
    print(f"{'sent' if result.ok else 'failed'} after {len(result.attempts)} attempt(s)"
          + (f": {result.error}" if result.error else ""))
    return 0 if result.ok else 1
