"""Fan-out through TelegramChannel alone: one message to N chats against the strict fake Bot API.

    python bench/fanout_channel.py [--json] [--chats 300] [--groups 0]

Telegram allows 30 messages per second overall, so N messages need at least N/30 seconds. The
figure of merit is the ratio elapsed / (N/30): close to 1 means the pacer uses the allowance, above
1 is time lost to pacing slack. The server (tests/fakes/telegram_api.py) enforces the limits as exact
sliding windows, so ``throttled`` must be 0, and ``max_per_second`` (the most messages the server
accepted in any sliding second, from its own timestamps) must be at most 30.
(The outbox's own fan-out benchmark is bench/fanout.py; this one isolates the channel and pacer.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from relays.channels.base import Outgoing  # noqa: E402
from relays.channels.telegram import TelegramChannel  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402

GLOBAL_RATE = 30


def max_in_window(times: list[float], per: float) -> int:
    ordered, best, start = sorted(times), 0, 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - per:
            start += 1
        best = max(best, end - start + 1)
    return best


async def fan_out(chats: int, groups: int) -> dict[str, Any]:
    addresses = [str(-(1000 + i)) if i < groups else str(1000 + i) for i in range(chats)]
    with FakeTelegram() as tg:
        async with TelegramChannel(tg.token, base_url=f"{tg.url}/bot") as channel:
            start = time.perf_counter()
            results = await asyncio.gather(
                *(channel.send(Outgoing(a, f"<b>Alerte</b> {a}", format="html")) for a in addresses),
                return_exceptions=True,
            )
            elapsed = time.perf_counter() - start
        sent = tg.sent
        throttled = tg.throttled
    bound = chats / GLOBAL_RATE
    return {
        "chats": chats,
        "groups": groups,
        "elapsed_s": round(elapsed, 3),
        "bound_s": round(bound, 3),
        "ratio": round(elapsed / bound, 3),
        "delivered": len(sent),
        "errors": sum(isinstance(r, BaseException) for r in results),
        "throttled": throttled,
        "max_per_second": max_in_window([e["at"] for e in sent], 1.0),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=300)
    parser.add_argument("--groups", type=int, default=0, help="how many of the chats are groups")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    figures = asyncio.run(fan_out(args.chats, args.groups))
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:>15}  {value}")
    ok = figures["throttled"] == 0 and figures["delivered"] == args.chats and figures["max_per_second"] <= 30
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
