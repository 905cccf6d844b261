"""Typed settings, loaded once: environment (prefix ``PRODOUANE_RELAY_``) over an optional TOML file.

Secrets have no defaults and are ``SecretStr``, so they are masked in ``repr``, logs and
``config check``. The TOML file is named by ``PRODOUANE_RELAY_CONFIG`` (or ``--config``); its keys
are the setting names in lower case (``meteo_url = "…"``).
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from relays.errors import ConfigError

DEFAULT_METEO_URL = "https://www.douane.gouv.fr/meteo/prodouane/pages/meteo"
#: False while :meth:`Settings.defaults` builds settings that ignore the environment and the file.
_CONFIGURED: ContextVar[bool] = ContextVar("configured", default=True)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PRODOUANE_RELAY_", extra="forbid", validate_default=True)

    meteo_url: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [DEFAULT_METEO_URL],
        description="the météo page, then optional BIP pages / feeds",
    )
    database_url: str | None = Field(None, description="SQLAlchemy URL; default: SQLite under data_dir")
    data_dir: Path = Field(Path("data"), description="where the embedded SQLite file lives")
    poll_interval: float = Field(60.0, gt=0, description="seconds between polls")
    poll_jitter: float = Field(5.0, ge=0, description="random seconds added to each poll")
    http_timeout: float = Field(20.0, gt=0)
    max_backoff: float = Field(900.0, gt=0, description="longest wait between failed polls, seconds")
    degraded_after: int = Field(3, ge=1, description="bad polls in a row before SourceDegraded")
    close_after_absent: int = Field(
        3, ge=1, description="healthy polls without an alert before its end is inferred"
    )
    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_rate: int = Field(
        30, ge=1, le=30, description="messages/s this instance may send (with N senders, 30/N each)"
    )
    slack_bot_token: SecretStr | None = None
    webhook_timeout: float = Field(15.0, gt=0, description="seconds a webhook receiver has to answer")
    slack_api_url: str = "https://slack.com/api/"
    telegram_webhook_url: str | None = Field(
        None,
        description="public HTTPS URL Telegram posts updates to (webhook mode), e.g. https://x.example/telegram",
    )
    telegram_webhook_secret: SecretStr | None = Field(
        None, description="secret token Telegram sends with each webhook call (1-256 of A-Z a-z 0-9 _ -)"
    )
    slack_signing_secret: SecretStr | None = Field(None, description="verifies Slack's HTTP requests (Bolt)")
    slack_app_token: SecretStr | None = Field(None, description="xapp-… token for Slack Socket Mode")
    # --- the long-running process (`run`): each part enabled by configuration -------------------
    poller_enabled: bool = Field(True, description="poll the météo page (only the leader instance does)")
    sender_enabled: bool = Field(True, description="deliver the outbox")
    telegram_mode: Literal["polling", "webhook", "off"] = Field(
        "polling", description="the Telegram bot: long polling, webhook (needs telegram_webhook_url), or off"
    )
    slack_mode: Literal["socket", "http", "off"] = Field(
        "socket", description="the Slack app: Socket Mode (needs slack_app_token), HTTP events, or off"
    )
    web_enabled: bool = Field(True, description="serve /healthz, /readyz, /metrics and the status page")
    web_host: str = Field("127.0.0.1", description="address the web server listens on")
    web_port: int = Field(8080, ge=0, le=65535)
    status_token: SecretStr | None = Field(None, description="token required by the status page, if set")
    api_public: bool = Field(
        False, description="serve the feeds, the calendar and the JSON API without the status token"
    )
    instance_id: str | None = Field(
        None, description="this instance's name among several (default: host:pid)"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool | None = Field(None, description="JSON logs (default: when stderr is not a terminal)")
    admins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="admin chat/user ids (telegram:ID, slack:ID)"
    )

    @field_validator("meteo_url", "admins", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("meteo_url")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} is not an http(s) URL")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        if not _CONFIGURED.get():
            return (init_settings,)
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config = os.environ.get("PRODOUANE_RELAY_CONFIG")
        if config:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config)))
        return tuple(sources)

    @classmethod
    def defaults(cls, **values: Any) -> Settings:
        """``values`` over the defaults, ignoring the environment and the configuration file: for
        runs that must not depend on them (``demo``, ``replay`` without ``--deliver``, tests)."""
        token = _CONFIGURED.set(False)
        try:
            return cls(**values)
        finally:
            _CONFIGURED.reset(token)

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.data_dir.resolve() / 'prodouane-relay.sqlite3'}"


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and config file; a bad value becomes one readable error."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ConfigError(
            f"bad setting PRODOUANE_RELAY_{name.upper()}: {first['msg']}", reason="bad_setting"
        ) from exc
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the configuration: {exc}", reason="unreadable") from exc
