"""Typed settings, loaded once: environment (prefix ``PRODOUANE_RELAY_``) over an optional TOML file.

Secrets have no defaults and are ``SecretStr``, so they are masked in ``repr``, logs and
``config check``. The TOML file is named by ``PRODOUANE_RELAY_CONFIG`` (or ``--config``); its keys
are the setting names in lower case (``meteo_url = "…"``).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot.store_url import embedded_url
from relays.errors import ConfigError
from relays.logs import register_secrets

PREFIX = "PRODOUANE_RELAY_"
#: Variables with our prefix that are not settings: the file's name, and the test suite's server.
NOT_SETTINGS = frozenset({f"{PREFIX}CONFIG", f"{PREFIX}TEST_PG"})
#: An administrator: a Telegram user id, or a Slack user id.
ADMIN = re.compile(r"telegram:\d{1,20}|slack:[UW][A-Z0-9]{2,30}")
DAY = 86400.0
#: Query parameters whose value is a credential (masked by ``config check``, redacted from logs).
SECRET_QUERY = re.compile(r"(?i)token|key|secret|pass|pwd|auth|sig|session|credential|jwt")
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
    poll_interval_calm: float = Field(
        30.0, gt=0, le=DAY, allow_inf_nan=False, description="seconds between polls while nothing is open"
    )
    poll_interval_active: float = Field(
        15.0,
        gt=0,
        le=DAY,
        allow_inf_nan=False,
        description="seconds between polls while an alert is open or an announced interruption is "
        "within an hour of its window (never slower than calm)",
    )
    poll_interval: float | None = Field(
        None,
        gt=0,
        le=DAY,
        allow_inf_nan=False,
        description="the former single interval: sets POLL_INTERVAL_CALM and POLL_INTERVAL_ACTIVE "
        "where they are not given",
    )
    poll_jitter: float = Field(
        5.0, ge=0, le=DAY, allow_inf_nan=False, description="random seconds added to each poll"
    )
    http_timeout: float = Field(20.0, gt=0, le=3600, allow_inf_nan=False)
    max_backoff: float = Field(
        900.0, gt=0, le=DAY, allow_inf_nan=False, description="longest wait between failed polls, seconds"
    )
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
    webhook_timeout: float = Field(
        15.0, gt=0, le=3600, allow_inf_nan=False, description="seconds a webhook receiver has to answer"
    )
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
    status_public: bool = Field(
        False, description="serve the status page beyond loopback without STATUS_TOKEN, on purpose"
    )
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

    @model_validator(mode="after")
    def _one_interval(self) -> Settings:
        """``POLL_INTERVAL`` (one interval for every state, as before) fills the intervals not given."""
        if self.poll_interval is not None:
            given = self.model_fields_set
            if "poll_interval_calm" not in given:
                self.poll_interval_calm = self.poll_interval
            if "poll_interval_active" not in given:
                self.poll_interval_active = self.poll_interval
        return self

    @field_validator("meteo_url", "admins", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("meteo_url")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("is empty: give the météo page's URL (or leave the setting out)")
        for url in value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} is not an http(s) URL")
        return value

    @field_validator("admins")
    @classmethod
    def _admins(cls, value: list[str]) -> list[str]:
        for entry in value:
            if not ADMIN.fullmatch(entry):
                raise ValueError(f"{entry!r} is not an admin id (telegram:123456789 or slack:U0123ABCD)")
        return value

    @field_validator("web_host")
    @classmethod
    def _host(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("is empty (127.0.0.1 to serve this machine only)")
        return value.strip()

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

    def secrets(self) -> list[str]:
        """Every secret value this configuration holds: the tokens, the database's password, the
        credentials and token-like query values of the météo URLs (for the logs' redaction)."""
        out = [v.get_secret_value() for v in vars(self).values() if isinstance(v, SecretStr)]
        for url in [*self.meteo_url, self.database_url or ""]:
            parts = urlsplit(url)
            out += [parts.password or ""]
            out += [v for k, v in parse_qsl(parts.query) if SECRET_QUERY.search(k)]
        return [value for value in out if value]

    def resolved_database_url(self, *, create: bool = True) -> str:
        """The database URL: the configured one, else the SQLite file under ``data_dir`` — whose
        folder is created unless ``create`` is False (a reading command creates nothing)."""
        if self.database_url:
            return self.database_url
        folder = self.data_dir
        if folder.exists() and not folder.is_dir():
            raise ConfigError(f"PRODOUANE_RELAY_DATA_DIR={folder} is not a folder", reason="data_dir")
        if not create and not folder.is_dir():
            raise ConfigError(
                f"PRODOUANE_RELAY_DATA_DIR={folder} does not exist: no store has been created there "
                "(`prodouane-relay db upgrade` creates it)",
                reason="data_dir",
            )
        if create:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(
                    f"PRODOUANE_RELAY_DATA_DIR={folder} cannot be created: {exc.strerror or exc}",
                    reason="data_dir",
                ) from exc
        return self.embedded_database_url()

    def embedded_database_url(self) -> str:
        """The SQLite file under ``data_dir`` (used when ``database_url`` is not set)."""
        return embedded_url(self.data_dir)


def mask_url(url: str) -> str:
    """``url`` fit to be shown: its password and its token-like query values masked."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    query = urlencode(
        [
            (k, "***" if SECRET_QUERY.search(k) else v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="*",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _check_environment(environ: Mapping[str, str]) -> None:
    """Refuse a ``PRODOUANE_RELAY_*`` variable that names no setting (a typo would be ignored), and
    a configuration file that is not there."""
    known = set(Settings.model_fields)
    for key in sorted(environ):
        if not key.startswith(PREFIX):
            continue
        name = key[len(PREFIX) :].lower()
        if name in known or key in NOT_SETTINGS:
            continue
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {PREFIX}{close[0].upper()}?)" if close else ""
        raise ConfigError(f"unknown setting {key}{hint}", reason="unknown_setting")
    config = environ.get(f"{PREFIX}CONFIG")
    if config is not None:
        path = Path(config)
        if not path.is_file():
            what = "is a folder" if path.is_dir() else "does not exist"
            raise ConfigError(f"{PREFIX}CONFIG={config}: the file {what}", reason="unreadable")


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and config file; a bad value becomes one readable error."""
    _check_environment(os.environ)
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"]) or "settings"
        if first["type"] == "extra_forbidden":
            close = difflib.get_close_matches(name, Settings.model_fields, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            where = os.environ.get(f"{PREFIX}CONFIG", "the configuration")
            raise ConfigError(f"unknown setting {name!r} in {where}{hint}", reason="unknown_setting") from exc
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"bad setting {PREFIX}{name.upper()}: {message}", reason="bad_setting") from exc
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the configuration: {exc}", reason="unreadable") from exc
    register_secrets(settings.secrets())
    return settings
