"""Subscribers: what people and logs are shown of an address."""

from __future__ import annotations

import pytest

from relays import subscribers as subs


def test_apprise_secrets_are_masked() -> None:
    for url in (
        "msteams://TokenA/TokenB/TokenC/",
        "tgram://123456789:AAHxSecretBotToken/987",
        "json://127.0.0.1:9/hook?token=SuperSecret",
        "mailtos://user:pass@smtp.example.org",
    ):
        shown = subs.mask_address("apprise", url)
        assert not any(s in shown for s in ("TokenB", "AAHxSecretBotToken", "SuperSecret", ":pass@")), shown


@pytest.mark.parametrize(
    ("url", "shown", "hidden"),
    [
        (
            "json://hooks.example.org/s3cretPath42?+X-Api-Key=key-0042",
            "json://hooks.example.org/…",
            ("s3cret", "key-0042"),
        ),
        (
            "jsons://user:pw-9@hooks.example.org:8443/in",
            "jsons://hooks.example.org/…",
            ("user", "pw-9", "in"),
        ),
        ("form://127.0.0.1:9/hook", "form://127.0.0.1/…", ("hook",)),
        ("ntfy://relay-topic-93bd", "ntfy://…", ("relay-topic",)),
        ("ntfy://ntfy.example.org/relay-topic-93bd", "ntfy://ntfy.example.org/…", ("relay-topic",)),
        (
            "mailtos://user:pass@smtp.example.org?to=ops@client.fr",
            "mailtos://smtp.example.org/…",
            ("pass", "ops@"),
        ),
        ("tgram://123456789:AAHxSecretBotToken/987", "tgram://…", ("AAHx", "123456789")),
        ("msteams://TokenA/TokenB/TokenC/", "msteams://…", ("Token",)),
        ("json://hooks.example.org", "json://hooks.example.org", ()),
    ],
)
def test_an_apprise_address_shows_its_scheme_and_server_only(
    url: str, shown: str, hidden: tuple[str, ...]
) -> None:
    assert subs.mask_address("apprise", url) == shown
    secrets = subs.address_secrets("apprise", url)
    assert url in secrets
    for part in hidden:
        if len(part) >= 6:
            assert any(part in s for s in secrets[1:]), (part, secrets)


def test_chat_ids_are_shown_as_they_are_and_hold_no_secret() -> None:
    assert subs.mask_address("telegram", "-1001234567890") == "-1001234567890"
    assert subs.address_secrets("slack", "C0123ABCD") == []
