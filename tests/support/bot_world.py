"""A relay store in a known state for the chat-bot tests: the sample scenario replayed up to a page.

``scenario_store(url, upto="04")`` records the pages ``01-…`` to ``04-…`` of
``relays/samples/scenario``: a planned interruption on 8 December 2026, a DELTA G (EDI) alert with
two BIP and an ICS2 alert, both open. The clock (:data:`NOW`) is a little later that day.
:class:`ScenarioCopies` gives each fuzz example a fresh copy of such a store.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


class ScenarioCopies:
    """A fresh copy of one scenario store for each fuzz example, so none sees what another did.

    The scenario is recorded (and ``prepare`` run on it) once into a template file; :meth:`fresh`
    copies it with SQLite's backup API into a new file and opens it without migrating (the copy
    has the schema), in milliseconds. A failing example then shrinks and replays exactly.
    """

    def __init__(self, folder: Path, prepare: Callable[[Store], object] = lambda store: None) -> None:
        self.folder = folder
        template = scenario_store(f"sqlite:///{folder / 'template.sqlite3'}")
        prepare(template)
        template.close()
        self._template = sqlite3.connect(folder / "template.sqlite3", check_same_thread=False)
        self._numbers = itertools.count()

    @contextmanager
    def fresh(self) -> Iterator[Store]:
        path = self.folder / f"copy-{next(self._numbers)}.sqlite3"
        copy = sqlite3.connect(path)
        self._template.backup(copy)
        copy.close()
        store = Store.open(f"sqlite:///{path}", schema="as_is")
        try:
            yield store
        finally:
            store.close()
            for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                leftover.unlink(missing_ok=True)

    def close(self) -> None:
        self._template.close()
