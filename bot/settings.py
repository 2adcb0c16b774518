"""Settings, read from the environment and an optional `.env` file."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_HAMSA_API_URL = "https://api.tryhamsa.com"
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

    hamsa_api_key: SecretStr | None = None
    hamsa_api_url: str = DEFAULT_HAMSA_API_URL
    hamsa_link_domains: Annotated[tuple[str, ...], NoDecode] = DEFAULT_LINK_DOMAINS
    show_full_caller_number: bool = False

    host: str = "0.0.0.0"
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

    @field_validator("hamsa_api_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("LOG_LEVEL is one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("hamsa_link_domains", mode="before")
    @classmethod
    def _split_domains(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(d.strip().lower() for d in value.split(",") if d.strip())
        return value

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    def missing_for_serve(self) -> list[str]:
        """Names of the required settings that are unset, for a clear start-up error."""
        required = {
            "SLACK_BOT_TOKEN": self.slack_bot_token,
            "HAMSA_API_KEY": self.hamsa_api_key,
        }
        if not self.socket_mode:
            required["SLACK_SIGNING_SECRET"] = self.slack_signing_secret
        return [name for name, value in required.items() if value is None or not value.get_secret_value()]
