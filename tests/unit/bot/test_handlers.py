"""The shared handlers and the router, without any platform: routing, aliases, enrolment, escaping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.handlers.common import take_services, take_when
from bot.handlers.markup import slack_blocks, slack_mrkdwn, telegram_html, utf16_len
from bot.handlers.replies import Context, Reply, b, pre, reply
from bot.handlers.router import BY_ALIAS, COMMANDS, handle, handle_callback
from bot.handlers.selftrigger import State
from relays import invites
from relays import subscribers as subs
from relays.dates import PARIS
from relays.store import Store
from tests.fakes._telegram_wire import html_error
from tests.support.bot_world import NOW, scenario_store

from .conftest import ADMIN

Chat = Callable[..., Context]


def text_of(result: Reply | None) -> str:
    assert result is not None
    return result.text


@pytest.mark.parametrize(
    ("french", "english"),
    [
        ("aide", "help"),
        ("etat", "status"),
        ("statut", "status"),
        ("autodeclenchement", "selftrigger"),
        ("delai", "deadline"),
        ("abonner", "subscribe"),
        ("desabonner", "unsubscribe"),
        ("reglages", "settings"),
        ("langue", "lang"),
        ("question", "ask"),
    ],
)
def test_french_aliases_run_the_same_command(chat: Chat, french: str, english: str) -> None:
    assert BY_ALIAS[french] is BY_ALIAS[english]
    assert text_of(handle(chat(), f"/{french}")) == text_of(handle(chat(), f"/{english}"))


def test_command_names_fit_telegram_rules() -> None:
    for command in COMMANDS:
        for name in (command.name, *command.aliases):
            assert (
                name.isascii() and name.islower() and 1 <= len(name) <= 32 and name.replace("_", "").isalnum()
            )


def test_unaddressed_group_chatter_and_other_bots_commands_get_silence(chat: Chat) -> None:
    group = chat("-100", "7", chat_type="group", addressed=False)
    assert handle(group, "on déjeune où ?") is None
    assert handle(group, "/frobnicate") is None
    assert handle(chat(), "/status@another_bot") is None
    assert handle(chat(), "   \u200b ") is None
    assert "DELTA G" in text_of(handle(group, "/status"))


def test_bare_command_words_are_commands_only_when_they_parse(chat: Chat) -> None:
    slack = chat(bare_commands=True)
    assert "ALERTE ROUGE" in text_of(handle(slack, "status"))
    assert "24 heures" in text_of(handle(slack, "délai de réintégration en delta x ?"))
    assert "Commande inconnue" not in text_of(handle(slack, "bonjour"))


def test_enrolment_needs_a_code_and_a_code_works_once(chat: Chat, store: Store) -> None:
    assert "code d'invitation" in text_of(handle(chat(), "/start"))
    assert "inconnu" in text_of(handle(chat(), "/start nope"))
    assert subs.all_subscribers(store) == []
    code = invites.create_invite(store, "ACME", {"eori": "FR1", "nonsense": "dropped"})
    assert "Bienvenue" in text_of(handle(chat(), f"/start {code}"))
    assert "déjà abonnée" in text_of(handle(chat(), "/start"))
    assert "déjà été utilisé" in text_of(handle(chat("43"), f"/start {code}"))
    [subscriber] = subs.all_subscribers(store)
    assert subscriber.profile == {"eori": "FR1"} and subscriber.eori == "FR1"


def test_an_expired_code_is_refused(store: Store) -> None:
    code = invites.create_invite(store, "ACME", now=NOW - invites.VALIDITY - timedelta(minutes=1))
    with pytest.raises(invites.InviteError, match="expired"):
        invites.redeem(store, code, "telegram", "42", now=NOW)


def test_unsubscribing_everything_then_subscribing_again_needs_no_new_code(chat: Chat, store: Store) -> None:
    handle(chat(), f"/start {invites.create_invite(store, 'ACME')}")
    assert "ne recevra plus" in text_of(handle_callback(chat(), "un:all"))
    assert not subs.all_subscribers(store)[0].active
    assert "mis à jour" in text_of(handle(chat(), "/subscribe DELTA G, ICS2 EDI fin"))
    [subscriber] = subs.all_subscribers(store)
    assert (
        subscriber.active
        and subscriber.services == ("DELTA G", "ICS2")
        and subscriber.kinds == ("alert_closed",)
    )
    assert "Je ne connais pas" in text_of(handle(chat(), "/subscribe Narnia"))
    assert "tous" in text_of(handle(chat(), "/subscribe tout"))


def test_admin_commands_are_for_configured_admins_only(chat: Chat, store: Store) -> None:
    for command in ("/broadcast hi", "/subscribers", "/audit", "/invite ACME", "/pause 1", "/resume 1"):
        assert "réservée aux administrateurs" in text_of(handle(chat(), command))
    assert "Invitation pour ACME" in text_of(handle(chat(ADMIN), "/invite ACME eori=FR9 address=1 rue X"))
    [invite] = invites.list_invites(store)
    assert invite.profile == {"eori": "FR9", "address": "1 rue X"}
    assert "Usage" in text_of(handle(chat(ADMIN), "/pause 99999999999999999999"))
    assert "Usage" in text_of(handle(chat(ADMIN), "/pause ²"))


@pytest.mark.parametrize(
    "message",
    [
        "/deadline 31/12/9999 23:59",
        "/deadline 9999-12-31T23:59-12:00",
        "/deadline 0001-01-01T00:00+14:00",
        "/da DELTA G 9999-12-31T23:59-12:00",
        "/da DELTA G 31/12/9999 23:59 déclarations impossibles à valider",
        "/delai 01/01/1900 10:00",
    ],
)
def test_far_off_or_malformed_dates_get_the_invalid_date_reply(chat: Chat, message: str) -> None:
    assert "date invalide" in text_of(handle(chat(), message))


def test_may_i_self_trigger_gets_the_cited_answer_with_the_check_offered_under_it(chat: Chat) -> None:
    answer = handle(chat(), "/ask puis-je auto-déclencher la procédure de secours ?")
    assert answer is not None and "Fiche 1 – Opérateurs" in text_of(answer)
    [[offer]] = answer.buttons
    assert offer.label == "Vérifier si je peux auto-déclencher" and offer.data.startswith("stn:")
    check = handle_callback(chat(), offer.data)
    assert not check.edit and "Quel téléservice" in text_of(check)  # a message of its own, below
    named = handle(chat(), "Puis-je auto-déclencher pour DELTA G en EDI ?")
    assert named is not None
    first = handle_callback(chat(), named.buttons[0][0].data)
    assert "DELTA G (EDI)" in text_of(first)  # what the question named is kept


def test_the_audit_command_takes_any_unique_beginning_of_an_alert_id(chat: Chat, store: Store) -> None:
    alert_id = store.open_alerts()[0].id
    assert alert_id in text_of(handle(chat(ADMIN), f"/audit {alert_id[:9]}"))  # the full id: found
    assert "plusieurs alertes" in text_of(handle(chat(ADMIN), "/audit A"))
    assert "aucune alerte" in text_of(handle(chat(ADMIN), "/audit Znope"))


def test_confidential_admin_commands_are_refused_in_a_group_before_they_act(chat: Chat, store: Store) -> None:
    subs.add(store, channel="console", address="desk", client="Desk")
    group = chat("-100", ADMIN, chat_type="group")
    for command in ("/invite ACME", "/pause 1", "/resume 1", "/subscribers", "/audit"):
        assert "confidentielle" in text_of(handle(group, command)), command
    assert invites.list_invites(store) == []  # no code was made for nobody to see
    assert not subs.find(store, "1").paused  # nor was anyone paused unseen
    assert "Invitation pour ACME" in text_of(handle(chat(ADMIN), "/invite ACME"))  # in private, as ever


def test_the_provider_da_lists_every_client_and_only_admins_get_it(chat: Chat, store: Store) -> None:
    for n, client in enumerate(("Alpha", "Beta")):
        invites.redeem(
            store, invites.create_invite(store, client, {"eori": f"FR{n}"}), "telegram", str(50 + n)
        )
    assert "administrateurs" in text_of(handle(chat(), "/da prestataire"))
    text = text_of(handle(chat(ADMIN), "/da prestataire ICS2 14:00 panne de notre passerelle"))
    assert (
        "- Alpha (EORI : FR0)" in text
        and "- Beta (EORI : FR1)" in text
        and "panne de notre passerelle" in text
    )


def test_one_da_per_teleprocedure_with_blanks_for_missing_references(chat: Chat) -> None:
    text = text_of(handle(chat(), "/da DELTA X 14h30"))
    assert text.count("Objet : auto-déclenchement de la procédure de secours") == 2
    assert "[à compléter]" in text and "à 14:30" in text


def test_deadline_from_the_last_end_of_alert(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bot.bootstrap import bootstrap
    from bot.settings import Settings

    store = scenario_store(f"sqlite:///{tmp_path / 'ended.sqlite3'}", upto="06")
    try:
        ctx = Context(
            bootstrap(Settings.defaults(), store=store, clock=lambda: NOW).bots, "telegram", "42", "42"
        )
        text = text_of(handle(ctx, "/delai"))
    finally:
        store.close()
    assert "Dernière fin d'alerte : ICS2" in text and "Réintégration avant le" in text
    assert "ne vise pas ICS2" in text and "Étape 4 (délai)" in text


def test_times_and_service_phrases_are_read_from_the_start_of_the_arguments() -> None:
    moment, rest = take_when(["03/12/2026", "14h30", "raison"], NOW)
    assert moment == datetime(2026, 12, 3, 14, 30, tzinfo=PARIS) and rest == ["raison"]
    assert take_when(["raison"], NOW) == (None, ["raison"])
    assert take_services(["Delta", "X", "import", "et", "export", "raison"]) == (
        ["DELTA X Import", "DELTA X Export"],
        ["raison"],
    )
    assert moment.astimezone(UTC).hour == 13


def test_self_trigger_state_from_tampered_callback_data_starts_over() -> None:
    assert State.parse("99.Z.9.9.9.9") == State()
    assert State.parse("0.E.1.n.v.") == State("0", "E", "1", "n", "v", "")
    assert State().data(service="3") == "st:3....."


def test_every_self_trigger_path_ends_in_a_well_formed_reply(chat: Chat) -> None:
    seen = set()
    frontier = ["st:"]
    while frontier:
        data = frontier.pop()
        if data in seen:
            continue
        seen.add(data)
        result = handle_callback(chat(), data)
        assert html_error(telegram_html(result)) is None
        frontier += [button.data for row in result.buttons for button in row if button.data.startswith("st:")]
    assert len(seen) > 20


def test_user_text_is_escaped_for_each_platform() -> None:
    hostile = reply("<b>", b("x < y & <!channel>"), "\n", pre("<script>&amp;</script>"))
    html = telegram_html(hostile)
    assert (
        html
        == "&lt;b&gt;<b>x &lt; y &amp; &lt;!channel&gt;</b>\n<pre>&lt;script&gt;&amp;amp;&lt;/script&gt;</pre>"
    )
    assert html_error(html) is None
    assert (
        slack_mrkdwn(hostile)
        == "&lt;b&gt;*x &lt; y &amp; &lt;!channel&gt;*\n```&lt;script&gt;&amp;amp;&lt;/script&gt;```"
    )


def test_long_replies_are_cut_within_limits_without_breaking_markup() -> None:
    long = reply(b("🏴‍☠️" * 900), pre("<" * 5000))
    html = telegram_html(long)
    assert utf16_len(html) <= 4096 and html.endswith("…") and html_error(html) is None
    assert all(
        len(block["text"]["text"]) <= 3000 for block in slack_blocks(long) if block["type"] == "section"
    )
    assert len(slack_mrkdwn(long)) <= 3900


def test_a_damaged_store_gets_one_plain_line_in_the_chat_not_an_apology(
    chat: Chat, store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The disk failing is not a bug: the user is told the relay cannot read its store and where to
    look instead; the log has one line naming the fault, no traceback, however often they ask."""
    store.engine.dispose()
    (tmp_path / "relay.sqlite3").write_bytes(b"not a database" * 100)
    for name in ("relay.sqlite3-wal", "relay.sqlite3-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    with caplog.at_level("WARNING"):
        answer = text_of(handle(chat(), "/status"))
        again = text_of(handle(chat("43"), "/help"))
    assert "ne peut pas lire sa base" in answer and "douane.gouv.fr" in answer and again == answer
    assert "sqlite" not in answer.lower() and str(tmp_path) not in answer
    lines = [r for r in caplog.records if "storage fault" in r.getMessage()]
    assert len(lines) == 1 and lines[0].exc_info is None and "answering a chat command" in lines[0].getMessage()
    assert store.health.fault is not None and store.health.fault.reason == "corrupt"
