"""Fan-out to Telegram through the real python-telegram-bot client and a strict fake Bot API."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from relays import subscribers as subs
from relays.channels.telegram import TelegramChannel
from relays.fanout import enqueue_hook
from relays.lifecycle import Rules
from relays.poller import read_page
from relays.sender import Sender
from relays.store import DeliveryRow, Store
from tests.fakes.telegram_api import FakeTelegram

from .conftest import PAGES, hostile_alert_page

ROOT = Path(__file__).resolve().parents[3]


def record(store: Store, page: str | bytes, location: str = "page") -> list[str]:
    from datetime import UTC, datetime

    body = Path(page).read_bytes() if isinstance(page, str) else page
    events = store.record_poll(
        "meteo",
        location,
        read_page(location, body),
        now=datetime.now(UTC),
        rules=Rules(),
        on_events=enqueue_hook(),
    )
    return [e.kind for e in events]


async def drain(store: Store, tg: FakeTelegram) -> None:
    async with TelegramChannel(tg.token, base_url=f"{tg.url}/bot") as channel:
        sender = Sender(store, {"telegram": channel})
        await sender.drain()


async def test_every_subscriber_gets_its_messages_threaded_under_its_own_copy_of_the_alert(
    store: Store,
) -> None:
    subs.add(store, channel="telegram", address="101", client="Tout")
    subs.add(
        store, channel="telegram", address="102", client="Fin seulement", kinds=["alert_closed"], lang="en"
    )
    subs.add(store, channel="telegram", address="103", client="ICS2 seulement", services=["ICS2"])
    subs.add(store, channel="telegram", address="104", client="DTI seulement", modes=["DTI"])
    with FakeTelegram() as tg:
        async with TelegramChannel(tg.token, base_url=f"{tg.url}/bot") as channel:
            sender = Sender(store, {"telegram": channel})  # one channel, one pacer, for the whole run
            for page in PAGES:
                record(store, page)
                await sender.drain()
        everyone = tg.sent_to(101)
        assert [m["text"].splitlines()[0] for m in everyone] == [
            "🛠 <b>INTERRUPTION PROGRAMMÉE — DELTA G, DELTA X Import, DELTA X Export, DELTA T, ICS2 (EDI/DTI)</b>",
            "🔴 <b>ALERTE ROUGE — DELTA G (EDI)</b>",
            "ℹ️ <b>BIP n°1 — DELTA G (EDI) · alerte rouge</b>",
            "⚫ <b>ALERTE NOIRE — ICS2 (EDI/DTI)</b>",
            "ℹ️ <b>BIP n°2 — DELTA G (EDI) · alerte rouge</b>",
            "✅ <b>FIN D'ALERTE — DELTA G (EDI)</b>",
            "✅ <b>FIN D'ALERTE — ICS2 (EDI/DTI)</b>",
        ]
        delta_g = everyone[1]["message_id"]
        assert [m["reply_to_message_id"] for m in everyone] == [
            None,
            None,
            delta_g,
            None,
            delta_g,
            delta_g,
            everyone[3]["message_id"],
        ]
        assert all(m["parse_mode"] == "HTML" for m in everyone)
        assert (
            "Réintégrez les déclarations déposées en procédure de secours avant le 04/12/2026 15:02"
            in everyone[5]["text"]
        )
        assert "Fiche 1" in everyone[1]["text"]  # the fallback modalities come from the fiches
        ends_only = tg.sent_to(102)
        assert [m["text"].splitlines()[0] for m in ends_only] == [
            "✅ <b>END OF ALERT — DELTA G (EDI)</b>",
            "✅ <b>END OF ALERT — ICS2 (EDI/DTI)</b>",
        ]
        assert [m["reply_to_message_id"] for m in ends_only] == [None, None]  # no alert message to reply to
        assert len(tg.sent_to(103)) == 3  # the interruption (it names ICS2), the ICS2 alert and its end
        assert len(tg.sent_to(104)) == 3  # DTI: the interruption, the ICS2 alert and its end
        assert tg.throttled == 0


async def test_scraped_text_is_escaped_for_telegram_html(store: Store) -> None:
    subs.add(store, channel="telegram", address="7", client="C")
    with FakeTelegram() as tg:
        record(store, hostile_alert_page())
        await drain(store, tg)
        (message,) = tg.sent_to(7)
    text = message["text"]
    assert "&lt;b&gt;grave&lt;/b&gt; &amp; &lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<script>" not in text and "<b>grave" not in text


async def test_a_blocked_bot_deactivates_that_subscriber_tells_the_admins_and_blocks_no_one_else(
    store: Store,
) -> None:
    blocked = subs.add(store, channel="telegram", address="201", client="Bloqueur")
    subs.add(store, channel="telegram", address="202", client="Fidèle")
    subs.add(store, channel="telegram", address="900", client="Admins", role="admin", kinds=["alert_closed"])
    with FakeTelegram() as tg:
        tg.block(201)
        async with TelegramChannel(tg.token, base_url=f"{tg.url}/bot") as channel:
            sender = Sender(store, {"telegram": channel})
            record(store, PAGES[1])
            await sender.drain()
            record(store, PAGES[2])
            await sender.drain()
        assert len(tg.sent_to(202)) == 3 and tg.sent_to(201) == []
        (notice,) = tg.sent_to(900)
    assert "ABONNÉ DÉSACTIVÉ" in notice["text"] and "Bloqueur" in notice["text"]
    after = subs.find(store, str(blocked.id))
    assert after is not None and not after.active and "blocked" in (after.deactivated_reason or "")
    with store.sessions() as session:
        statuses = Counter(r.status for r in session.query(DeliveryRow).filter_by(subscriber_id=blocked.id))
    # The refused message failed, its other pending ones (the interruption notice and reminders) were
    # skipped, and the bulletin published afterwards no longer fanned out to it.
    assert statuses == Counter({"failed": 1, "skipped": 3})


async def test_a_429_storm_is_retried_after_retry_after_without_duplicates(store: Store) -> None:
    for chat in range(301, 306):
        subs.add(store, channel="telegram", address=str(chat), client=f"C{chat}")
    with FakeTelegram() as tg:
        tg.fail_next(4, status=429, retry_after=1)
        record(store, PAGES[1])
        await drain(store, tg)
        counts = Counter(m["chat_id"] for m in tg.sent)
    assert counts == {str(c): 2 for c in range(301, 306)}  # the alert and the interruption notice, once each
    with store.sessions() as session:
        retried = [r for r in session.query(DeliveryRow) if r.attempts > 1]
    assert len(retried) == 4 and all(r.status == "sent" for r in retried)


async def test_server_errors_are_retried_and_end_in_the_dead_letter_state_when_they_persist(
    store: Store,
) -> None:
    from datetime import timedelta

    from relays.outbox import Policy

    subs.add(store, channel="telegram", address="401", client="C")
    record(store, hostile_alert_page())
    with FakeTelegram() as tg:
        tg.fail_next(50, status=502)
        async with TelegramChannel(tg.token, base_url=f"{tg.url}/bot") as channel:
            sender = Sender(
                store,
                {"telegram": channel},
                policy=Policy(max_attempts=3, base_backoff=0.05, lease=timedelta(seconds=5)),
            )
            report = await sender.drain()
    assert report.dead == 1 and report.sent == 0
    with store.sessions() as session:
        (row,) = session.query(DeliveryRow).all()
    assert (row.status, row.attempts) == ("dead", 3) and "502" in (row.last_error or "") or row.last_error


def test_a_process_killed_mid_fan_out_resumes_without_skipping_or_duplicating(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'relay.sqlite3'}"
    store = Store.open(db)
    chats = [str(5000 + i) for i in range(90)]
    for chat in chats:
        subs.add(store, channel="telegram", address=chat, client=f"Client {chat}")
    store.close()
    with FakeTelegram() as tg:
        env = {
            **os.environ,
            "PRODOUANE_RELAY_TELEGRAM_BOT_TOKEN": tg.token,
            "PRODOUANE_RELAY_TELEGRAM_API_URL": f"{tg.url}/bot",
        }
        argv = [sys.executable, "-m", "bot.cli", "replay", "--deliver", "--db", db, PAGES[1]]
        first = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while len(tg.sent) < 40 and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.01)
        os.kill(first.pid, signal.SIGKILL)  # kill -9 in the middle of the fan-out
        first.wait()
        before = len(tg.sent)
        assert 0 < before < 2 * len(chats), "the kill must land mid-fan-out"
        # A restart takes at least a second: the new process's pacer cannot know what the dead one
        # sent in its last second, so restarting faster would legitimately earn a few 429s.
        time.sleep(1.1)
        second = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert second.returncode == 0, second.stderr
        counts = Counter(m["chat_id"] for m in tg.sent)
        assert tg.throttled == 0
    # Two messages per chat (the alert, the interruption notice): nobody skipped, and at most the
    # one message that was on the wire when the process died was sent twice.
    assert set(counts) == set(chats)
    duplicates = sum(n - 2 for n in counts.values())
    assert all(n >= 2 for n in counts.values()) and duplicates <= 1


async def test_reminders_in_the_future_stay_in_the_store_and_past_ones_are_never_created(
    store: Store,
) -> None:
    subs.add(store, channel="telegram", address="601", client="C")
    old_end = b"""<html><body><h2>Messages</h2><article><h3>ALERTE - DELTA G - EDI</h3>
    <p>Publi\xc3\xa9 le 03/01/2020 \xc3\xa0 10h00</p><p>Panne.</p></article>
    <article><h3>FIN D'ALERTE - DELTA G - EDI</h3><p>Publi\xc3\xa9 le 03/01/2020 \xc3\xa0 12h00</p><p>OK.</p></article>
    </body></html>"""
    record(store, old_end)
    record(store, PAGES[4])  # the sample's end of alert, in December 2026: its reminder is ahead
    with FakeTelegram() as tg:
        await drain(store, tg)
    with store.sessions() as session:
        rows = session.query(DeliveryRow).all()
    reminders = [r for r in rows if r.purpose == "deadline_reminder"]
    assert len(reminders) == 0  # the 2026 page ends no alert this store knows, the 2020 deadline has passed


async def test_the_deadline_reminder_goes_out_when_due_and_replies_under_the_alert(store: Store) -> None:
    from datetime import UTC, datetime, timedelta

    from relays.outbox import Policy

    subs.add(store, channel="telegram", address="701", client="C")
    for page in PAGES[1:5]:
        record(store, page)
    with store.sessions() as session:
        (reminder,) = session.query(DeliveryRow).filter_by(purpose="deadline_reminder").all()
        assert reminder.status == "pending" and reminder.due_at > datetime.now(UTC)
    later = reminder.due_at + timedelta(seconds=1)
    with FakeTelegram() as tg:
        async with TelegramChannel(tg.token, base_url=f"{tg.url}/bot") as channel:
            await Sender(store, {"telegram": channel}).drain()
            assert not any("RAPPEL" in m["text"] for m in tg.sent_to(701))
            await Sender(store, {"telegram": channel}, clock=lambda: later, policy=Policy()).drain()
        last = tg.sent_to(701)[-1]
    assert last["text"].startswith("⏰ <b>RAPPEL — réintégration avant le 04/12/2026 15:02</b>")
    alert = next(m for m in tg.sent_to(701) if "ALERTE ROUGE — DELTA G" in m["text"])
    assert last["reply_to_message_id"] == alert["message_id"]


async def test_the_outbox_keeps_event_order_per_subscriber_when_the_alert_is_being_retried(
    store: Store,
) -> None:
    subs.add(store, channel="telegram", address="801", client="C")
    with FakeTelegram() as tg:
        tg.fail_next(1, status=429, retry_after=1)
        record(store, PAGES[1])
        record(store, PAGES[2])
        await drain(store, tg)
        texts = [m["text"].splitlines()[0] for m in tg.sent_to(801)]
    assert texts.index("🔴 <b>ALERTE ROUGE — DELTA G (EDI)</b>") < texts.index(
        "ℹ️ <b>BIP n°1 — DELTA G (EDI) · alerte rouge</b>"
    )


async def test_a_requalification_is_told_in_the_alerts_thread_and_later_bulletins_carry_the_new_level(
    store: Store,
) -> None:
    def page(*bips: str) -> bytes:
        inner = "".join(
            f"<div><h4>{title}</h4><p>Publié le {when}</p><p>{text}</p></div>" for title, when, text in bips
        )
        return (
            "<html><body><h2>Messages</h2><article><h3>ALERTE ROUGE – DELTA G – EDI</h3>"
            f"<p>Publié le 03/12/2026 à 10h32</p><p>Les déclarations EDI ne sont pas traitées.</p>{inner}</article>"
            "</body></html>"
        ).encode()

    bip1 = ("BIP n°1 – DELTA G", "03/12/2026 à 11h30", "L'alerte rouge est requalifiée en alerte noire.")
    bip2 = ("BIP n°2 – DELTA G", "03/12/2026 à 12h30", "Les analyses se poursuivent.")
    subs.add(store, channel="telegram", address="101", client="Tout")
    subs.add(store, channel="telegram", address="102", client="Fins seulement", kinds=["alert_closed"])
    with FakeTelegram() as tg:
        async with TelegramChannel(tg.token, base_url=f"{tg.url}/bot") as channel:
            sender = Sender(store, {"telegram": channel})
            for body in (page(), page(bip1), page(bip1, bip2)):
                record(store, body)
                await sender.drain()
        told = tg.sent_to(101)
    assert [m["text"].splitlines()[0] for m in told] == [
        "🔴 <b>ALERTE ROUGE — DELTA G (EDI)</b>",
        "⚫ <b>Alerte requalifiée en alerte noire — DELTA G (EDI)</b>",
        "ℹ️ <b>BIP n°1 — DELTA G (EDI) · alerte noire</b>",
        "ℹ️ <b>BIP n°2 — DELTA G (EDI) · alerte noire</b>",
    ]
    alert = told[0]["message_id"]
    assert [m["reply_to_message_id"] for m in told] == [None, alert, alert, alert]
    assert tg.sent_to(102) == []  # who wants only the ends is not told of a requalification
