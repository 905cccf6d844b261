"""Fan one alert out to N Telegram subscribers through the real outbox, against a strict fake Bot API.

    python bench/fanout.py [--subscribers 1000] [--json]

The fake enforces Telegram's limits exactly (30 messages in any sliding second, 1 per second per
chat) and answers 429 beyond them. The clock starts when the alert is recorded (which fans it out
into the outbox in the same transaction) and stops when the last message is accepted. Prints
``elapsed_s``, ``bound_s`` (N/30), ``ratio`` (bound_s / elapsed_s; target ≥ 0.9), ``lost``,
``duplicates`` and ``throttled`` (429s received) — all three must be 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.bootstrap import bootstrap  # noqa: E402
from bot.settings import Settings  # noqa: E402
from relays.poller import read_page  # noqa: E402
from relays.sample_source import sample_pages  # noqa: E402
from relays.store import SubscriberRow  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402

RATE = 30.0


def alert_only_page() -> bytes:
    """The sample alert page without its planned-interruption notice: exactly one event."""
    page = dict(sample_pages())["02-alerte-delta-g.html"].decode("utf-8")
    head, rest = page.split('<article class="message message-information">', 1)
    return (head + rest.split("</article>", 1)[1]).encode("utf-8")


async def run(n: int) -> dict[str, float | int]:
    with tempfile.TemporaryDirectory() as tmp, FakeTelegram() as tg:
        settings = Settings.defaults(telegram_bot_token=tg.token, telegram_api_url=f"{tg.url}/bot")
        async with bootstrap(settings, database_url=f"sqlite:///{Path(tmp) / 'bench.sqlite3'}") as relay:
            store = relay.store
            chats = [str(10_000 + i) for i in range(n)]
            now = datetime.now(UTC)
            with store.transaction() as session:
                session.add_all(
                    SubscriberRow(
                        channel="telegram",
                        address=chat,
                        client=f"Client {chat}",
                        lang="fr",
                        services=[],
                        modes=[],
                        kinds=[],
                        role="client",
                        active=True,
                        paused=False,
                        profile={},
                        created_at=now,
                    )
                    for chat in chats
                )
            sender = relay.sender
            t0 = time.perf_counter()
            events = store.record_poll(
                "bench",
                "bench",
                read_page("bench", alert_only_page()),
                now=datetime.now(UTC),
                on_events=relay.fanout,
            )
            report = await sender.drain()
            elapsed = time.perf_counter() - t0
        counts = Counter(m["chat_id"] for m in tg.sent)
        throttled = tg.throttled
    assert [e.kind for e in events] == ["alert_opened"]
    bound = n / RATE
    return {
        "subscribers": n,
        "elapsed_s": round(elapsed, 3),
        "bound_s": round(bound, 3),
        "ratio": round(bound / elapsed, 3),
        "lost": sum(1 for chat in chats if counts[chat] == 0),
        "duplicates": sum(c - 1 for c in counts.values() if c > 1),
        "throttled": throttled,
        "sent": report.sent,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(run(args.subscribers))
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:<12} {value}")
        print(
            f"(ratio {result['ratio']:.3f} of the 30 msg/s bound; target ≥ 0.9; lost, duplicates and "
            "throttled must be 0)"
        )
    ok = result["lost"] == 0 and result["duplicates"] == 0 and result["throttled"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
