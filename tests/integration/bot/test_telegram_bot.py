"""The Telegram bot end to end: real ``telegram.ext.Application``, its Bot talking to FakeTelegram.

The fake rejects what Telegram would (unparseable HTML, over-long text, bad reply targets), so a
message recorded in ``tg.sent`` is one Telegram would have accepted.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.settings import Settings
from bot.telegram_app import SECRET_HEADER, TelegramApp, set_commands, start_polling, stop, webhook_handler
from relays import subscribers as subs
from relays.channels.memory import MemoryChannel
from relays.invites import create_invite
from relays.store import Base, Store
from tests.fakes import FakeTelegram

from .conftest import ADMIN, TelegramUser


async def test_start_without_a_code_explains_how_to_get_one_and_stores_nothing(
    user: TelegramUser, store: Store
) -> None:
    await user.say(42, "/start")
    [message] = user.tg.sent_to(42)
    assert "code d'invitation" in message["text"] and message["parse_mode"] == "HTML"
    assert subs.all_subscribers(store) == []


async def test_an_invite_code_enrols_the_chat_once_and_only_once(
    user: TelegramUser, store: Store, code: str
) -> None:
    await user.say(42, f"/start {code}")
    assert "Bienvenue" in user.texts(42)[-1]
    [subscriber] = subs.all_subscribers(store)
    assert (subscriber.channel, subscriber.address, subscriber.client) == ("telegram", "42", "Transit SA")
    assert subscriber.profile["eori"] == "FR12345678901"
    await user.say(42, f"/start {code}")  # the same chat again: harmless
    await user.say(43, f"/start {code}")  # another chat: refused
    assert "déjà été utilisé" in user.texts(43)[-1]
    assert len(subs.all_subscribers(store)) == 1


async def test_status_comes_from_the_store_with_the_latest_bulletin_and_planned_interruptions(
    user: TelegramUser,
) -> None:
    await user.say(42, "/etat")
    text = user.texts(42)[-1]
    assert "ALERTE ROUGE — DELTA G (EDI)" in text and "Dernier BIP n°2" in text
    assert "ALERTE NOIRE — ICS2" in text and "Interruption programmée" in text
    assert "<b>" in text


async def test_english_users_get_english_and_the_help_lists_french_and_english_aliases(
    tg: FakeTelegram, user: TelegramUser
) -> None:
    message = tg.push_message(42, "/help")
    message["from"]["language_code"] = "en-GB"
    await user.process({"message": message})
    text = user.texts(42)[-1]
    assert "this help" in text and "/aide" in text and "/etat" in text and "broadcast" not in text


async def test_a_plain_private_message_is_answered_with_its_citation(user: TelegramUser) -> None:
    await user.say(42, "Quel est le délai de réintégration des déclarations en Delta X ?")
    text = user.texts(42)[-1]
    assert "24 heures" in text and "Sources" in text and "Fiche 4" in text


async def test_in_a_group_only_commands_and_messages_addressed_to_the_bot_get_a_reply(
    tg: FakeTelegram, user: TelegramUser
) -> None:
    tg.set_chat(-100, type="supergroup", title="Transit SA — douane")
    await user.say(-100, "quelqu'un sait si delta G marche ?", user_id=7)
    await user.say(-100, "/status@some_other_bot", user_id=7)
    await user.say(-100, "/nimportequoi", user_id=7)
    assert tg.sent_to(-100) == []
    await user.say(-100, "@fake_relay_bot délai de réintégration delta x ?", user_id=7)
    [answer] = tg.sent_to(-100)
    assert "24 heures" in answer["text"] and answer["reply_to_message_id"] is not None
    await user.say(-100, "/status@fake_relay_bot", user_id=7)
    assert "DELTA G" in user.texts(-100)[-1]
    await user.say(-100, "@fake_relay_bot status", user_id=7)  # a mention and a command word: the command
    assert "Météo des téléservices — état au" in user.texts(-100)[-1]
    await user.say(-100, "@fake_relay_bot etat", user_id=7)
    assert "Météo des téléservices — état au" in user.texts(-100)[-1]


async def test_the_self_trigger_check_walks_fiche_1_with_buttons_and_ends_with_the_verdict(
    user: TelegramUser, store: Store
) -> None:
    await user.say(42, "Puis-je auto-déclencher la procédure de secours pour Delta X import en DTI ?")
    answer = user.last(42)  # the answer from the fiches, with the guided check offered under it
    [[offer]] = answer["reply_markup"]["inline_keyboard"]
    assert offer["text"] == "Vérifier si je peux auto-déclencher"
    await user.press(42, offer["callback_data"], answer["message_id"])
    first = user.last(42)
    assert (
        first["method"] == "sendMessage" and first["message_id"] != answer["message_id"]
    )  # the answer stays
    assert "aucune alerte n'est publiée pour DELTA X Import (DTI)" in first["text"]  # the bot knows
    assert "Aubette" in first["text"]
    buttons = {b["text"]: b["callback_data"] for row in first["reply_markup"]["inline_keyboard"] for b in row}
    await user.press(42, buttons["Pas BAE"], first["message_id"])
    second = user.last(42)
    assert second["method"] == "editMessageText" and "sous contrôle" in second["text"]
    buttons = {
        b["text"]: b["callback_data"] for row in second["reply_markup"]["inline_keyboard"] for b in row
    }
    await user.press(42, buttons["Non, aucun de ces états"], first["message_id"])
    verdict = user.last(42)["text"]
    assert "Vous pouvez auto-déclencher" in verdict
    for step in ("Étape 3", "Étape 4", "Étape 5"):
        assert f"Fiche 1 – Opérateurs, {step}" in verdict
    assert user.tg.callback_answers  # every press is acknowledged


async def test_the_self_trigger_check_says_when_an_alert_is_already_published(user: TelegramUser) -> None:
    await user.say(42, "/autodeclenchement DELTA G EDI")
    text = user.texts(42)[-1]
    assert "Une alerte est publiée par le CID pour DELTA G" in text and "Inutile d'auto-déclencher" in text


async def test_for_gamma_the_check_says_the_customs_service_decides(user: TelegramUser) -> None:
    await user.say(42, "/selftrigger GAMMA")
    text = user.texts(42)[-1]
    assert "c'est le service des douanes qui décide" in text and "GAMMA, IV.1" in text


async def test_da_drafts_the_assistance_request_from_the_client_profile(
    user: TelegramUser, code: str
) -> None:
    await user.say(42, f"/start {code}")
    await user.say(42, "/da DELTA G 03/12/2026 10:45 déclarations impossibles à valider")
    text = user.texts(42)[-1]
    for expected in (
        "auto-déclenchement de la procédure de secours",
        "FR12345678901",
        "1 quai de Southampton",
        "+33 2 35 00 00 00",
        "Type de téléprocédure : DELTA G",
        "le 03/12/2026 à 10:45",
        "déclarations impossibles à valider",
        "<pre>",
    ):
        assert expected in text


async def test_subscription_buttons_toggle_filters_and_survive_a_new_application(
    user: TelegramUser, store: Store, code: str
) -> None:
    await user.say(42, f"/start {code}")
    await user.say(42, "/abonner")
    menu = user.last(42)
    data = {b["text"]: b["callback_data"] for row in menu["reply_markup"]["inline_keyboard"] for b in row}
    await user.press(42, data["ICS2"], menu["message_id"])
    await user.press(42, data["EDI"], menu["message_id"])
    [subscriber] = subs.all_subscribers(store)
    assert subscriber.services == ("ICS2",) and subscriber.modes == ("EDI",)
    await user.say(42, "/desabonner ICS2")
    assert "Il ne resterait plus rien" in user.texts(42)[-1]
    await user.say(42, "/lang en")
    await user.say(42, "/settings")
    assert "Téléservices: ICS2" in user.texts(42)[-1]


async def test_admin_commands_are_refused_politely_and_logged_for_others(
    user: TelegramUser, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        await user.say(42, "/broadcast hello")
    assert "réservée aux administrateurs" in user.texts(42)[-1]
    assert any("admin command refused: broadcast by telegram:42" in r.getMessage() for r in caplog.records)


async def test_an_admin_creates_invites_and_broadcasts_to_active_subscribers(
    user: TelegramUser, store: Store, memory: MemoryChannel, code: str
) -> None:
    await user.say(42, f"/start {code}")
    await user.say(ADMIN, "/invite Import <Export> & Cie eori=FR999 phone=01 23 45 67 89")
    invite = user.texts(ADMIN)[-1]
    assert "Import &lt;Export&gt; &amp; Cie" in invite and "/start " in invite
    await user.say(ADMIN, "/broadcast Maintenance <b>ce soir</b> & demain")
    assert "Envoyé : 1" in user.texts(ADMIN)[-1]
    [sent] = memory.sent
    assert sent.address == "42" and "Maintenance &lt;b&gt;ce soir&lt;/b&gt; &amp; demain" in sent.text


async def test_confidential_admin_replies_are_not_shown_in_a_group(
    tg: FakeTelegram, user: TelegramUser
) -> None:
    tg.set_chat(-100, type="supergroup", title="ops")
    await user.say(-100, "/invite ACME", user_id=ADMIN)
    assert "discussion privée" in user.texts(-100)[-1]


async def test_stickers_edits_and_unknown_commands_get_a_hint_or_silence(
    tg: FakeTelegram, user: TelegramUser
) -> None:
    sticker = tg.push_message(42, "x")
    del sticker["text"]
    sticker["sticker"] = {
        "file_id": "s",
        "file_unique_id": "s",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    await user.process({"message": sticker})
    assert "texte" in user.texts(42)[-1]
    edited = tg.push_message(42, "/status")
    edited["edit_date"] = edited["date"] + 1
    await user.process({"edited_message": edited})
    await user.say(42, "/frobnicate now")
    assert "Commande inconnue" in user.texts(42)[-1]
    assert len(user.texts(42)) == 2


async def test_huge_and_odd_messages_get_a_reply_within_telegram_limits(user: TelegramUser) -> None:
    await user.say(42, "é" * 4000)
    assert "trop longue" in user.texts(42)[-1]
    await user.say(42, "/ask \u202e<i>\u0000 zalgo z̸̢̛a̵l̶g̷o 🏴‍☠️ &amp; </i>")
    await user.say(42, "/da " + "DELTA G " * 300)
    assert all(len(t) <= 4096 for t in user.texts(42)) and len(user.texts(42)) == 3


async def test_removing_the_bot_from_a_group_deactivates_its_subscription(
    tg: FakeTelegram, user: TelegramUser, store: Store, code: str
) -> None:
    tg.set_chat(-100, type="supergroup", title="ops")
    await user.say(-100, f"/start {code}", user_id=7)
    bot = tg.bot_user
    await user.process(
        {
            "my_chat_member": {
                "chat": {"id": -100, "type": "supergroup", "title": "ops"},
                "from": {"id": 7, "is_bot": False, "first_name": "A"},
                "date": 1,
                "old_chat_member": {"user": bot, "status": "member"},
                "new_chat_member": {"user": bot, "status": "left"},
            }
        }
    )
    [subscriber] = subs.all_subscribers(store)
    assert not subscriber.active and "removed" in (subscriber.deactivated_reason or "")


async def test_a_bug_is_logged_and_the_user_gets_an_apology_without_details(
    user: TelegramUser, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    Base.metadata.drop_all(store.engine)  # the store is broken under the bot's feet
    with caplog.at_level(logging.ERROR):
        await user.say(42, "/status")
    text = user.texts(42)[-1]
    assert "Désolé" in text and "Traceback" not in text and "sqlite" not in text.lower()
    assert any(r.levelno == logging.ERROR and r.exc_info for r in caplog.records)


async def test_real_long_polling_answers_pushed_messages(
    settings: Settings, store: Store, tg: FakeTelegram
) -> None:
    from bot.bootstrap import bootstrap
    from bot.telegram_app import build_telegram_application

    app = build_telegram_application(bootstrap(settings, store=store).bots, settings, rate_limit=True)
    await start_polling(app)
    try:
        tg.push_message(42, "/aide")
        await tg.wait_for_async(lambda: len(tg.sent_to(42)) == 1)
    finally:
        await stop(app)
    assert {c["command"] for c in tg.commands} >= {"status", "ask", "selftrigger", "da", "deadline"}


async def test_a_bad_gateway_while_polling_is_one_warning_and_polling_goes_on(
    settings: Settings, store: Store, tg: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.bootstrap import bootstrap
    from bot.telegram_app import build_telegram_application

    app = build_telegram_application(bootstrap(settings, store=store).bots, settings)
    tg.fail_updates(1, status=502)
    with caplog.at_level(logging.DEBUG):
        await start_polling(app)
        try:
            tg.push_message(42, "/aide")
            await tg.wait_for_async(lambda: len(tg.sent_to(42)) == 1, timeout=20)  # retried, answered
        finally:
            await stop(app)
    serious = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in serious] == [
        "telegram: polling for updates failed (Bad Gateway); retrying"
    ]
    assert serious[0].exc_info is None


async def test_the_webhook_refuses_calls_without_the_secret_token(
    app: TelegramApp, settings: Settings, tg: FakeTelegram
) -> None:
    web_app = web.Application()
    web_app.router.add_post("/telegram", webhook_handler(app, settings))
    update = {"update_id": 1, "message": tg.push_message(42, "/status")}
    await app.start()
    try:
        async with TestClient(TestServer(web_app)) as client:
            assert (await client.post("/telegram", json=update)).status == 401
            forged = await client.post("/telegram", json=update, headers={SECRET_HEADER: "guess"})
            assert forged.status == 401
            good = await client.post(
                "/telegram", json=update, headers={SECRET_HEADER: "s3cret-token_ok-0123456789abcdef0123"}
            )
            assert good.status == 200
            await tg.wait_for_async(lambda: len(tg.sent_to(42)) == 1)
    finally:
        await app.stop()


async def test_the_command_menu_is_published_in_french_and_english(
    app: TelegramApp, tg: FakeTelegram
) -> None:
    await set_commands(app)
    requests = tg.requests_for("setMyCommands")
    assert [r["params"].get("language_code") for r in requests] == [None, "en"]
    assert all("broadcast" not in str(r["params"]["commands"]) for r in requests)


async def test_invites_are_single_use_even_under_concurrent_redemption(store: Store) -> None:
    code = create_invite(store, "ACME")

    def redeem(chat: str) -> bool:
        from relays.invites import InviteError, redeem

        try:
            redeem(store, code, "telegram", chat)
            return True
        except InviteError:
            return False

    results = await asyncio.gather(*(asyncio.to_thread(redeem, str(100 + n)) for n in range(5)))
    assert sum(results) == 1
