"""Two `run` instances on one PostgreSQL database: one polls, the other takes over when it dies,
and every subscriber gets each event exactly once."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from relays import subscribers as subs
from relays.leader import Leadership
from relays.store import Store
from tests.fakes.telegram_api import FakeTelegram
from tests.support.meteo_server import MeteoServer

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "relays" / "samples" / "scenario"
CHATS = [str(8000 + i) for i in range(6)]


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def recorded(store: Store) -> int:
    """How many deliveries the store knows were sent."""
    from sqlalchemy import func, select

    from relays.store import DeliveryRow

    with store.sessions() as session:
        return int(session.scalar(select(func.count()).where(DeliveryRow.status == "sent")) or 0)


def first_lines(tg: FakeTelegram, chat: str) -> list[str]:
    return [m["text"].splitlines()[0] for m in tg.sent_to(chat)]


def test_the_standby_takes_over_polling_and_nobody_gets_an_event_twice(pg_url: str, tmp_path: Path) -> None:
    store = Store.open(pg_url)
    for chat in CHATS:
        subs.add(store, channel="telegram", address=chat, client=f"Client {chat}")
    with MeteoServer() as meteo, FakeTelegram() as tg:
        meteo.set_page(SAMPLES / "02-alerte-delta-g.html")
        base_env = {
            **os.environ,
            "PRODOUANE_RELAY_DATABASE_URL": pg_url,
            "PRODOUANE_RELAY_METEO_URL": meteo.url,
            "PRODOUANE_RELAY_POLL_INTERVAL": "0.5",
            "PRODOUANE_RELAY_POLL_JITTER": "0",
            "PRODOUANE_RELAY_TELEGRAM_BOT_TOKEN": tg.token,
            "PRODOUANE_RELAY_TELEGRAM_API_URL": f"{tg.url}/bot",
            "PRODOUANE_RELAY_TELEGRAM_MODE": "off",
            "PRODOUANE_RELAY_SLACK_MODE": "off",
            "PRODOUANE_RELAY_WEB_ENABLED": "false",
        }
        procs = {
            name: subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"],
                cwd=ROOT,
                env={**base_env, "PRODOUANE_RELAY_INSTANCE_ID": name},
                stdout=subprocess.DEVNULL,
                stderr=open(tmp_path / f"{name}.log", "w"),
            )
            for name in ("A", "B")
        }
        try:
            wait_until(lambda: all(len(tg.sent_to(c)) == 2 for c in CHATS), 30, "the alert to reach everyone")
            # A kill between Telegram accepting a message and the store recording it may resend that
            # one message (the next test measures that window); this test is about the poller's
            # takeover, so the kill lands once every delivery is recorded.
            wait_until(lambda: recorded(store) == 2 * len(CHATS), 30, "the deliveries to be recorded")
            holder = Leadership(store, "poller", instance="observer", ttl=timedelta(seconds=1)).holder()
            assert holder is not None and holder.holder in procs
            leader, standby = holder.holder, ({"A", "B"} - {holder.holder}).pop()
            procs[leader].send_signal(signal.SIGKILL)  # the polling instance dies
            procs[leader].wait()
            meteo.set_page(SAMPLES / "03-bip-1.html")
            wait_until(lambda: all(len(tg.sent_to(c)) == 3 for c in CHATS), 30, "the standby to take over")
            meteo.set_page(SAMPLES / "05-fin-delta-g.html")
            # That page also shows an ICS2 alert opened meanwhile: it is new to the relay, so it is sent.
            wait_until(lambda: all(len(tg.sent_to(c)) == 5 for c in CHATS), 30, "the end of alert")
            time.sleep(1.5)  # a few more polls: nothing else may arrive
            new_holder = Leadership(store, "poller", instance="observer", ttl=timedelta(seconds=1))
            assert (new_holder.holder() or holder).holder == standby
            procs[standby].send_signal(signal.SIGTERM)
            assert procs[standby].wait(timeout=20) == 0  # graceful shutdown
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        for chat in CHATS:
            assert Counter(first_lines(tg, chat)) == Counter(
                {
                    "🔴 <b>ALERTE ROUGE — DELTA G (EDI)</b>": 1,
                    "🛠 <b>INTERRUPTION PROGRAMMÉE — DELTA G, DELTA X Import, DELTA X Export, DELTA T, ICS2 (EDI/DTI)</b>": 1,
                    "ℹ️ <b>BIP n°1 — DELTA G (EDI) · alerte rouge</b>": 1,
                    "⚫ <b>ALERTE NOIRE — ICS2 (EDI/DTI)</b>": 1,
                    "✅ <b>FIN D'ALERTE — DELTA G (EDI)</b>": 1,
                }
            ), (tmp_path / "A.log").read_text() + (tmp_path / "B.log").read_text()
        assert tg.throttled == 0
    store.close()


def test_a_sender_killed_mid_fan_out_has_its_claims_taken_back_in_seconds(
    pg_url: str, tmp_path: Path
) -> None:
    """Two instances send, 15 msg/s each; the one holding the most claims is killed with SIGKILL.

    The survivor sees its heartbeat go stale and takes its claimed rows back at once (not after
    the 120 s lease): every chat gets both messages, and at most the one message that was on the
    wire at the kill is sent twice.
    """
    from sqlalchemy import func, select

    from relays.store import DeliveryRow, SubscriberRow

    chats = [str(9000 + i) for i in range(60)]
    store = Store.open(pg_url)
    for chat in chats:
        subs.add(store, channel="telegram", address=chat, client=f"Client {chat}")
    with MeteoServer() as meteo, FakeTelegram() as tg:
        meteo.set_page(SAMPLES / "02-alerte-delta-g.html")  # an alert and an interruption: 2 each
        base_env = {
            **os.environ,
            "PRODOUANE_RELAY_DATABASE_URL": pg_url,
            "PRODOUANE_RELAY_METEO_URL": meteo.url,
            "PRODOUANE_RELAY_POLL_INTERVAL": "0.5",
            "PRODOUANE_RELAY_POLL_JITTER": "0",
            "PRODOUANE_RELAY_TELEGRAM_BOT_TOKEN": tg.token,
            "PRODOUANE_RELAY_TELEGRAM_API_URL": f"{tg.url}/bot",
            "PRODOUANE_RELAY_TELEGRAM_RATE": "15",
            "PRODOUANE_RELAY_TELEGRAM_MODE": "off",
            "PRODOUANE_RELAY_SLACK_MODE": "off",
            "PRODOUANE_RELAY_WEB_ENABLED": "false",
        }
        procs = {
            name: subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"],
                cwd=ROOT,
                env={**base_env, "PRODOUANE_RELAY_INSTANCE_ID": name},
                stdout=subprocess.DEVNULL,
                stderr=open(tmp_path / f"{name}.log", "w"),
            )
            for name in ("A", "B")
        }

        def claims() -> dict[str, int]:
            with store.sessions() as session:
                rows = session.execute(
                    select(DeliveryRow.claimed_by, func.count())
                    .where(DeliveryRow.status == "sending")
                    .group_by(DeliveryRow.claimed_by)
                ).all()
            return {str(worker): int(n) for worker, n in rows}

        try:
            wait_until(lambda: len(tg.sent) >= 40 and bool(claims()), 60, "the fan-out to be under way")
            held = claims()
            victim = max(held, key=lambda name: held[name])
            survivor = ({"A", "B"} - {victim}).pop()
            procs[victim].send_signal(signal.SIGKILL)
            killed_at = time.monotonic()  # the fake's clock too
            procs[victim].wait()
            assert len(tg.sent) < 2 * len(chats), "the kill must land mid-fan-out"
            with store.sessions() as session:  # what the dead sender held: nobody else may touch it now
                orphans = set(
                    session.scalars(
                        select(SubscriberRow.address)
                        .join(DeliveryRow, DeliveryRow.subscriber_id == SubscriberRow.id)
                        .where(DeliveryRow.status == "sending", DeliveryRow.claimed_by == victim)
                    )
                )
            # Far below the 120 s lease: only the heartbeat can have brought those rows back so soon.
            wait_until(lambda: all(len(tg.sent_to(c)) >= 2 for c in chats), 30, "every chat to be served")
            served_in = max(float(m["at"]) for m in tg.sent) - killed_at
            orphans_in = max(float(m["at"]) for c in orphans for m in tg.sent_to(c)) - killed_at
            time.sleep(1.5)  # anything sent twice would arrive now
            procs[survivor].send_signal(signal.SIGTERM)
            assert procs[survivor].wait(timeout=20) == 0
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        logs = {name: (tmp_path / f"{name}.log").read_text() for name in procs}
        counts = Counter(str(m["chat_id"]) for m in tg.sent)
        throttled = tg.throttled
    store.close()
    print(
        f"killed {victim} holding {len(orphans)} claims: they were served {orphans_in:.1f} s after the "
        f"kill, every chat {served_in:.1f} s after it"
    )
    # The survivor took the dead sender's claims back from its stale heartbeat, not from the lease.
    assert f"sender(s) {victim} stopped beating" in logs[survivor], logs[survivor]
    assert set(counts) == set(chats)
    assert all(n >= 2 for n in counts.values())
    assert sum(n - 2 for n in counts.values()) <= 1  # only the message on the wire may go twice
    assert throttled == 0


async def test_a_poll_recorded_by_one_instance_wakes_the_listeners_of_the_others(pg_url: str) -> None:
    """The NOTIFY goes out with the recording transaction; a listener hears it (and nothing before)."""
    import asyncio
    from datetime import UTC, datetime

    from relays.fanout import enqueue_hook
    from relays.meteo import parse_page
    from relays.wakeup import announcing, listen
    from tests.support.pages import alert, page

    store = Store.open(pg_url)
    subs.add(store, channel="telegram", address="4242", client="C")
    woken: list[float] = []
    listener = asyncio.create_task(listen(store.engine.url, lambda: woken.append(1.0)))
    try:
        for _ in range(2000):  # it wakes once when it starts listening (for what it may have missed)
            if woken:
                break
            await asyncio.sleep(0.01)
        assert woken == [1.0]
        calm = parse_page(page(alert("ICS2", "03/12/2026 à 10h00")))
        await asyncio.to_thread(
            store.record_poll, "meteo", "p", calm, now=datetime.now(UTC), on_events=announcing(enqueue_hook())
        )
        for _ in range(2000):
            if len(woken) == 2:
                break
            await asyncio.sleep(0.01)
        assert len(woken) == 2
    finally:
        listener.cancel()
        try:
            await listener
        except asyncio.CancelledError:
            pass
    store.close()
