"""A fan-out written in steps survives a process that dies between them: the next process finishes
it, and every subscriber gets each message once.

The recording transaction writes the event and the rows of the first subscribers only; the rest
follows in steps (relays.fanout) while the first messages go out. Here the process that polled
"dies" after its recording transaction, or after one more step: nothing else is run, which is
exactly what a kill leaves in the store. Then a real ``replay --deliver`` process on the same store
and page — the next process — must write the missing rows and send every message exactly once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from relays.fanout import FIRST, enqueue_hook, extend
from relays.poller import read_page
from relays.snapshot import Snapshot
from relays.store import DeliveryRow, FanoutRow, Store, SubscriberRow
from tests.fakes.telegram_api import FakeTelegram

ROOT = Path(__file__).resolve().parents[3]
PAGE = str(ROOT / "relays" / "samples" / "scenario" / "02-alerte-delta-g.html")
CHATS = [str(7000 + i) for i in range(FIRST + 30)]


def _store_url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'relay.sqlite3'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.mark.parametrize("steps", [0, 1], ids=["after-recording", "after-one-step"])
@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_fan_out_cut_between_its_steps_is_finished_by_the_next_process_exactly_once(
    kind: str, steps: int, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = _store_url(kind, tmp_path, request)
    store = Store.open(url)
    now = datetime.now(UTC)
    with store.transaction() as session:
        session.add_all(
            SubscriberRow(channel="telegram", address=chat, client=f"Client {chat}", created_at=now)
            for chat in CHATS
        )
    observation = read_page(PAGE, Path(PAGE).read_bytes())
    assert isinstance(observation, Snapshot)
    when = max(now, observation.newest or now)  # as replay reads a page dated ahead
    events = store.record_poll("replay", PAGE, observation, now=when, on_events=enqueue_hook())
    assert len(events) == 2  # the alert and the planned interruption
    for _ in range(steps):
        with store.transaction() as session:
            assert extend(session, limit=10)
    # The process dies here: some subscribers have their rows, the others are only listed, and
    # nobody is both.
    with store.sessions() as session:
        written = set(
            session.execute(select(DeliveryRow.event_id, DeliveryRow.subscriber_id, DeliveryRow.purpose))
        )
        listed = {
            (row.event_id, subscriber_id, row.purpose)
            for row in session.scalars(select(FanoutRow))
            for subscriber_id in row.subscriber_ids
        }
    assert written and listed and not written & listed
    assert len({s for _, s, _ in written}) == FIRST + 10 * steps
    store.close()

    with FakeTelegram() as tg:
        env = {
            **os.environ,
            "PRODOUANE_RELAY_TELEGRAM_BOT_TOKEN": tg.token,
            "PRODOUANE_RELAY_TELEGRAM_API_URL": f"{tg.url}/bot",
        }
        argv = [sys.executable, "-m", "bot.cli", "replay", "--deliver", "--db", url, PAGE]
        second = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert second.returncode == 0, second.stderr
        counts = Counter(m["chat_id"] for m in tg.sent)
        assert tg.throttled == 0
    assert counts == Counter({chat: 2 for chat in CHATS})  # nobody lost, nobody told twice

    store = Store.open(url)
    with store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(FanoutRow)) == 0
        per_message = Counter(
            (event_id, purpose)
            for event_id, _, purpose in session.execute(
                select(DeliveryRow.event_id, DeliveryRow.subscriber_id, DeliveryRow.purpose)
            )
        )
    assert per_message == {key: len(CHATS) for key in per_message}  # every row owed, once
    assert {(e.id, "notify") for e in events} <= set(per_message)
    store.close()
