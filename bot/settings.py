"""Settings, read from the environment and an optional `.env` file."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_HAMSA_API_URL = "https://api.tryhamsa.com"
DEFAULT_HAMSA_UAE_API_URL = "https://api.uae.tryhamsa.com"
DEFAULT_DATABASE_URL = "sqlite:///hamsa-bot.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_LINK_DOMAINS = ("dashboard.tryhamsa.com",)


class Settings(BaseSettings):
    """Every setting the app reads; names are the environment variables (case-insensitive)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    slack_retry_after_cap: float = Field(default=10.0, ge=0)

    # Multi-workspace mode (installable with "Add to Slack"): on when both are set.
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    public_url: str | None = None

    database_url: str = DEFAULT_DATABASE_URL
    encryption_keys: SecretStr | None = None

    # Several replicas share guards, the conversation cache and single flight in Redis.
    redis_url: str | None = None
    redis_required: bool = True
    redis_prefix: str = Field(default="hamsa", pattern=r"^[A-Za-z0-9_.-]{1,40}$")

    hamsa_api_key: SecretStr | None = None
    hamsa_api_url: str = DEFAULT_HAMSA_API_URL
    hamsa_uae_api_url: str = DEFAULT_HAMSA_UAE_API_URL
    hamsa_link_domains: Annotated[tuple[str, ...], NoDecode] = DEFAULT_LINK_DOMAINS
    show_full_caller_number: bool = False
    # Defaults of what each workspace decides in App Home (bot/policy.py).
    shared_channels: Literal["off", "condensed", "full"] = "condensed"
    show_transcript_quotes: bool = True
    recording_in_channels: bool = True
    # Following calls: the webhook secret in single-workspace mode, and polling where no webhooks come.
    hamsa_webhook_secret: SecretStr | None = None
    live_poll_seconds: float = Field(default=15.0, gt=0)
    # How long a process may hold queued work before another may take it over (it died mid-work).
    outbox_lease_seconds: float = Field(default=60.0, gt=0)

    host: str = "0.0.0.0"
    # Set by `serve --workers N` for its workers: they share the port (SO_REUSEPORT).
    reuse_port: bool = False
    port: int = Field(default=3000, ge=1, le=65535)
    log_level: str = "INFO"

    hamsa_connect_timeout: float = Field(default=3.0, gt=0)
    hamsa_read_timeout: float = Field(default=5.0, gt=0)
    hamsa_lookup_budget: float = Field(default=8.0, gt=0)
    hamsa_max_attempts: int = Field(default=3, ge=1, le=10)
    hamsa_retry_after_cap: float = Field(default=5.0, ge=0)
    hamsa_max_response_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)

    cache_size: int = Field(default=1024, ge=1)
    cache_max_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    cache_ttl_finished: float = Field(default=300.0, ge=0)
    cache_ttl_active: float = Field(default=5.0, ge=0)
    cache_ttl_not_found: float = Field(default=30.0, ge=0)

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @field_validator("hamsa_api_url", "hamsa_uae_api_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        value = (value or "").strip().rstrip("/")
        if not value:
            return None
        if not value.startswith(("https://", "http://")):
            raise ValueError("PUBLIC_URL is the app's address, such as https://hamsa-bot.example.com")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("LOG_LEVEL is one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("shared_channels", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("hamsa_link_domains", mode="before")
    @classmethod
    def _split_domains(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(d.strip().lower() for d in value.split(",") if d.strip())
        return value

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    @property
    def multi_workspace(self) -> bool:
        """Installable by any workspace through OAuth, each connecting its own Hamsa account."""
        return bool(self.slack_client_id and self.slack_client_secret)

    def missing_for_serve(self) -> list[str]:
        """Names of the required settings that are unset, for a clear start-up error."""
        required: dict[str, SecretStr | str | None]
        if self.multi_workspace:
            required = {
                "SLACK_SIGNING_SECRET": self.slack_signing_secret,
                "ENCRYPTION_KEYS": self.encryption_keys,
            }
        else:
            required = {"SLACK_BOT_TOKEN": self.slack_bot_token, "HAMSA_API_KEY": self.hamsa_api_key}
            if not self.socket_mode:
                required["SLACK_SIGNING_SECRET"] = self.slack_signing_secret
        return [name for name, value in required.items() if not _given(value)]

    def secret_values(self) -> list[str]:
        """Every secret the settings hold, for the log filter that redacts them."""
        values = [
            self.slack_bot_token,
            self.slack_signing_secret,
            self.slack_app_token,
            self.slack_client_secret,
            self.hamsa_api_key,
            self.hamsa_webhook_secret,
            self.encryption_keys,
        ]
        found = [v.get_secret_value() for v in values if v is not None]
        if self.encryption_keys is not None:
            found += [key.strip() for key in self.encryption_keys.get_secret_value().split(",")]
        for url in (self.database_url, self.redis_url):
            password = _url_password(url) if url else None
            if password:
                found.append(password)
        return [value for value in found if value]


def _given(value: SecretStr | str | None) -> bool:
    if isinstance(value, SecretStr):
        return bool(value.get_secret_value())
    return bool(value)


def _url_password(url: str) -> str | None:
    try:
        return make_url(url).password
    except ArgumentError:
        return None
