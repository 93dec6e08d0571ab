"""Monitoring: product metrics, Prometheus and Alertmanager clients, alert history, triage, notifications, uptime."""
