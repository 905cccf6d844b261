"""Print a real conversation with the Telegram bot (real Application, FakeTelegram, the sample scenario).

    .venv/bin/python -m tests.integration.bot.transcript > /tmp/transcript.txt
docs/bot.md quotes its output.
"""

from __future__ import annotations

import asyncio
import html
import re
import tempfile
from pathlib import Path

from bot.bootstrap import bootstrap
from bot.settings import Settings
from bot.telegram_app import build_telegram_application
from relays.invites import create_invite
from tests.fakes import FakeTelegram, TelegramLimits
from tests.integration.bot.conftest import PROFILE, TelegramUser
from tests.support.bot_world import fixed_clock, scenario_store


def plain(text: str) -> str:
    return html.unescape(re.sub(r"</?(b|i|pre|code)>", "", text))


async def main() -> None:
    with FakeTelegram(limits=TelegramLimits.off()) as tg, tempfile.TemporaryDirectory() as folder:
        store = scenario_store(f"sqlite:///{Path(folder) / 'relay.sqlite3'}")
        code = create_invite(store, "Transit SA", PROFILE)
        settings = Settings.defaults(
            telegram_bot_token=tg.token, telegram_api_url=f"{tg.url}/bot", admins=["telegram:1"]
        )
        bots = bootstrap(settings, store=store, clock=fixed_clock()).bots
        app = build_telegram_application(bots, settings, rate_limit=False)
        await app.initialize()
        user = TelegramUser(tg, app)
        shown = 0

        def flush() -> None:
            nonlocal shown
            for message in tg.sent_to(42, method=None)[shown:]:
                verb = "bot (edits its message)" if message["method"] == "editMessageText" else "bot"
                print(f"{verb}:\n{plain(message['text'])}")
                for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                    print("   " + "  ".join(f"[{b['text']}]" for b in row))
                print()
            shown = len(tg.sent_to(42, method=None))

        async def say(text: str) -> None:
            print(f"you: {text}\n")
            await user.say(42, text)
            flush()

        async def press(label: str) -> None:
            last = tg.sent_to(42, method=None)[-1]
            data = next(
                b["callback_data"]
                for row in last["reply_markup"]["inline_keyboard"]
                for b in row
                if b["text"] == label
            )
            print(f"you press: [{label}]\n")
            await user.press(42, data, last["message_id"])
            flush()

        await say("/start")
        await say(f"/start {code}")
        await say("/etat")
        await say("Quel est le délai de réintégration des déclarations en Delta X ?")
        await say("/autodeclenchement Delta X import")
        await press("EDI")
        await press("Oui : ce n'est pas sa plateforme")
        await press("Pas BAE")
        await press("Non, aucun de ces états")
        await press("Rédiger la DA (DELTA X Import)")
        await say("/da DELTA G 03/12/2026 10:45 déclarations impossibles à valider")
        await app.shutdown()
        store.close()


if __name__ == "__main__":
    asyncio.run(main())
