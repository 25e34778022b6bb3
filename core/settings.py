"""Settings from the environment (prefix `CAMPANA_`), read only when asked for.

Each concern has its own section with its own prefix, so `CAMPANA_SMTP_HOST`
lands in `settings.smtp.host`. Nothing here runs at import: call
`load_settings()` (the CLI and `create_app()` do), so tests can set the
environment first.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATA_DIR = Path("var")


class SmtpSettings(BaseSettings):
    """Outgoing mail. Email goes to the file channel until `host` is set."""

    model_config = SettingsConfigDict(env_prefix="CAMPANA_SMTP_", extra="ignore")

    host: str | None = None
    port: int = 25
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = False
    timeout_seconds: float = 30.0
    pool_size: int = Field(default=4, ge=1, le=64)
    sender: str = "Campana <campana@localhost>"


class SmsSettings(BaseSettings):
    """HTTP SMS gateway: messages are POSTed as JSON to `gateway_url`."""

    model_config = SettingsConfigDict(env_prefix="CAMPANA_SMS_", extra="ignore")

    gateway_url: str | None = None
    gateway_token: SecretStr | None = None
    sender: str = "Campana"


class WebhookSettings(BaseSettings):
    """Outgoing webhooks: private and loopback targets are refused unless allowed."""

    model_config = SettingsConfigDict(env_prefix="CAMPANA_WEBHOOK_", extra="ignore")

    allow_private_addresses: bool = False
    timeout_seconds: float = 10.0


class SchedulerSettings(BaseSettings):
    """The scheduler: how often jobs tick and how a standby watches the leader."""

    model_config = SettingsConfigDict(env_prefix="CAMPANA_SCHEDULER_", extra="ignore")

    tick_seconds: float = Field(default=5.0, gt=0)
    heartbeat_seconds: float = Field(default=2.0, gt=0)
    standby_poll_seconds: float = Field(default=1.0, gt=0)


class WorkerSettings(BaseSettings):
    """Dispatch workers that drain the outbox."""

    model_config = SettingsConfigDict(env_prefix="CAMPANA_WORKER_", extra="ignore")

    batch_size: int = Field(default=500, ge=1, le=10_000)
    claim_ttl_seconds: float = Field(default=300.0, gt=0)
    idle_sleep_seconds: float = Field(default=1.0, gt=0)
    max_attempts: int = Field(default=8, ge=1)
    rate_limits: dict[str, float] = Field(
        default_factory=dict,
        description='Messages per second per channel from one worker, e.g. {"sms": 20} (JSON)',
    )

    @field_validator("rate_limits")
    @classmethod
    def _rates_positive(cls, value: dict[str, float]) -> dict[str, float]:
        for channel, rate in value.items():
            if not rate > 0:
                raise ValueError(f"{channel}: the rate must be above 0 messages per second")
        return value


class Settings(BaseSettings):
    """Everything Campana reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="CAMPANA_", extra="ignore")

    database_url: str = f"sqlite:///./{DEFAULT_DATA_DIR}/campana.db"
    data_dir: Path = DEFAULT_DATA_DIR
    secret_key: SecretStr | None = None
    base_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"
    auth_cache_seconds: float = Field(default=5.0, ge=0)
    file_channel_dir: Path = DEFAULT_DATA_DIR / "outbox"
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    sms: SmsSettings = Field(default_factory=SmsSettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)

    @field_validator("database_url")
    @classmethod
    def _database_url_parses(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"not a database URL ({exc})") from None
        if url.get_backend_name() not in {"sqlite", "postgresql"}:
            raise ValueError(
                f"unsupported database {url.get_backend_name()!r}: use sqlite or postgresql"
            )
        return value

    def signing_key(self) -> bytes:
        """The HMAC key for tokens: `secret_key`, else one generated once under `data_dir`."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        path = self.data_dir / "secret.key"
        path.parent.mkdir(parents=True, exist_ok=True)
        try:  # create it private and only once, even with several processes starting
            descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            return path.read_text().strip().encode()
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        return path.read_text().strip().encode()


def load_settings(**overrides: object) -> Settings:
    """Read the environment now; keyword overrides win (used by tests and the CLI)."""
    return Settings(**overrides)  # type: ignore[arg-type]
