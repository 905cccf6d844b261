"""The poll intervals' settings: calm and active, and the former single POLL_INTERVAL as their alias."""

from __future__ import annotations

import pytest

from bot.settings import load_settings
from relays.errors import ConfigError


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("PRODOUANE_RELAY_"):
            monkeypatch.delenv(key)


@pytest.mark.parametrize(
    ("environment", "calm", "active"),
    [
        ({}, 30.0, 15.0),
        ({"POLL_INTERVAL": "0.5"}, 0.5, 0.5),  # as before: one interval for every state
        ({"POLL_INTERVAL": "60", "POLL_INTERVAL_ACTIVE": "10"}, 60.0, 10.0),  # the new names win
        ({"POLL_INTERVAL_CALM": "45"}, 45.0, 15.0),
        ({"POLL_INTERVAL_CALM": "20", "POLL_INTERVAL_ACTIVE": "5"}, 20.0, 5.0),
    ],
)
def test_the_intervals_and_their_alias(
    environment: dict[str, str], calm: float, active: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(f"PRODOUANE_RELAY_{name}", value)
    settings = load_settings()
    assert (settings.poll_interval_calm, settings.poll_interval_active) == (calm, active)


@pytest.mark.parametrize("name", ["POLL_INTERVAL_CALM", "POLL_INTERVAL_ACTIVE", "POLL_INTERVAL"])
@pytest.mark.parametrize("value", ["0", "-3", "inf", "nan", "soon"])
def test_a_bad_interval_is_one_clear_error_naming_it(
    name: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(f"PRODOUANE_RELAY_{name}", value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value).startswith(f"bad setting PRODOUANE_RELAY_{name}:")
    assert "\n" not in str(caught.value)
