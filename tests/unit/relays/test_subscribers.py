"""Subscribers: what people and logs are shown of an address."""

from __future__ import annotations

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
