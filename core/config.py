"""One typed Settings object, read from the environment and `.env`."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "aftercare"}


class Settings(BaseSettings):
    """Every setting the console, the worker and the CLI read."""

    model_config = SettingsConfigDict(env_file=ROOT / ".env", extra="ignore")

    environment: str = Field("development", description="development, staging or production")
    database_url: str | None = Field(None, description="PostgreSQL URL; unset means the embedded server under var/")
    embedded_pg_dir: Path = Field(VAR / "pg", description="data folder of the embedded PostgreSQL")
    prometheus_url: str = "http://127.0.0.1:9090"
    alertmanager_url: str = "http://127.0.0.1:9093"
    backup_targets: str = Field("file://" + str(VAR / "backups"), description="comma-separated storage targets")
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    openai_timeout_seconds: float = 5.0
    smtp_url: str | None = None
    mail_from: str = "Aftercare Support <support@aftercare.local>"
    alert_mail_to: str | None = Field(None, description="comma-separated recipients of Alertmanager's cost alerts")
    slack_webhook_url: SecretStr | None = None
    pagerduty_routing_key: SecretStr | None = None
    pagerduty_url: str = "https://events.pagerduty.com/v2/enqueue"
    sentry_dsn: SecretStr | None = None
    auth_cookie_key: SecretStr | None = None
    auth_cookie_name: str = "aftercare_auth"
    auth_cookie_expiry_days: float = 1.0
    admin_password: SecretStr | None = None
    demo_password: SecretStr = Field(SecretStr("aftercare-demo"), description="password of the demo users")
    worker_metrics_host: str = "127.0.0.1"
    worker_metrics_port: int = 9464
    app_url: str = "http://127.0.0.1:8501"
    classify_confidence_threshold: float = 0.55
    priority_rules: str | None = Field(None, description="JSON overriding the priority and routing rules "
                                       "(keys base, reproducible_bug, plan_boost, teams; see docs/tickets.md)")
    business_timezone: str = "Europe/Madrid"
    backup_time: str = "02:00"
    probe_urls: str = ""
    http_timeout_seconds: float = 3.0
    bcrypt_rounds: int = Field(12, ge=4, le=16, description="cost of password hashes (tests use 4)")
    imap_url: SecretStr | None = Field(None, description="imap[s]://user:pass@host:port/FOLDER: the support mailbox")
    imap_poll_seconds: int = Field(60, description="how often the worker polls the mailbox")
    zendesk_api_token: SecretStr | None = None
    front_api_token: SecretStr | None = None

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> "Settings":
        if self.environment != "development":
            key = self.auth_cookie_key.get_secret_value() if self.auth_cookie_key else ""
            if key.lower() in PLACEHOLDER_SECRETS or len(key) < 32:
                raise ValueError("AUTH_COOKIE_KEY must be set to a random value of 32+ characters outside development")
        return self

    def cookie_key(self) -> str:
        """The auth cookie key: the setting, or one generated once into var/ (development)."""
        if self.auth_cookie_key:
            return self.auth_cookie_key.get_secret_value()
        path = VAR / "cookie_key"
        if not path.exists():
            VAR.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call `get_settings.cache_clear()`)."""
    return Settings()
