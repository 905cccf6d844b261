"""One error tree: every error of ours has one root, a reason code, and survives a copy."""

from __future__ import annotations

import copy
import pickle

import pytest

from bot.handlers.common import UserError
from relays import errors
from relays.errors import (
    ConfigError,
    DeliveryError,
    FetchError,
    InviteError,
    RelayError,
    SubscriberError,
    TransientError,
    UsageError,
)


def test_every_error_of_ours_descends_from_one_root() -> None:
    ours = [getattr(errors, name) for name in errors.__all__]
    assert all(issubclass(cls, RelayError) for cls in ours)
    assert issubclass(UserError, UsageError)  # the chat's refusals are usage errors too


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (UsageError("bad argument"), "usage"),
        (ConfigError("bad setting", reason="bad_setting"), "bad_setting"),
        (SubscriberError("no subscriber 4", reason="unknown_subscriber"), "unknown_subscriber"),
        (InviteError("this invite code has expired", reason="code_expired"), "code_expired"),
        (FetchError("timeout", "no answer in 20 s"), "timeout"),
        (TransientError("429", channel="slack", address="C1", reason="rate_limited"), "rate_limited"),
        (UserError("date invalide", "invalid date"), "chat"),
    ],
)
def test_each_error_carries_a_reason_code_and_keeps_it_through_a_copy(error: RelayError, reason: str) -> None:
    for clone in (error, pickle.loads(pickle.dumps(error)), copy.copy(error)):
        assert type(clone) is type(error)
        assert clone.reason == reason and str(clone) == str(error)


def test_refusals_are_usage_errors_and_failures_are_not() -> None:
    assert issubclass(InviteError, SubscriberError) and issubclass(SubscriberError, UsageError)
    assert not issubclass(DeliveryError, UsageError) and not issubclass(FetchError, UsageError)


def test_an_invite_refused_for_an_enrolled_chat_names_its_client() -> None:
    error = InviteError("this chat is already subscribed (client X)", reason="already_subscribed", client="X")
    assert pickle.loads(pickle.dumps(error)).client == "X"
