"""A relay store in a known state for the chat-bot tests: the sample scenario replayed up to a page.

``scenario_store(url, upto="04")`` records the pages ``01-…`` to ``04-…`` of
``relays/samples/scenario``: a planned interruption on 8 December 2026, a DELTA G (EDI) alert with
two BIP and an ICS2 alert, both open. The clock (:data:`NOW`) is a little later that day.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from relays.lifecycle import Rules
from relays.poller import read_page
from relays.store import Store

SCENARIO = Path(__file__).resolve().parents[2] / "relays" / "samples" / "scenario"
NOW = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)


def scenario_store(url: str, upto: str = "04") -> Store:
    store = Store.open(url)
    for page in sorted(SCENARIO.glob("*.html")):
        if page.name[:2] > upto:
            break
        store.record_poll("meteo", str(page), read_page(str(page), page.read_bytes()), now=NOW, rules=Rules())
    return store


def fixed_clock(moment: datetime = NOW):  # type: ignore[no-untyped-def]
    return lambda: moment
