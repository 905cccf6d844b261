"""``ask QUESTION`` and plain messages: the answer engine, with its citation and the live alerts.

The open alerts of the store are passed as ``live`` so an answer during an outage starts by
saying so. A question about self-triggering ("puis-je auto-déclencher ?", "can I self-trigger?")
gets its cited answer with the guided check of :mod:`bot.handlers.selftrigger` offered under it
(a button that starts it in a message of its own, with the téléservice and mode the question named).
The last question each user asked in each chat is remembered for :data:`FOLLOW_UP` (in memory,
at most :data:`REMEMBERED` conversations), so "et pour GAMMA ?" right after a question is read
with that question's subject.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any

from knowledge.answers import answer
from knowledge.services import fold
from relays.glance import as_live

from ..memory import release_freed_memory
from . import selftrigger
from .common import MAX_QUESTION, UserError
from .replies import Context, Reply, Span, b, i, reply

_SELFTRIGGER = re.compile(r"AUTO ?DECLENCH|SELF ?TRIGGER")


def mentions_selftrigger(text: str) -> bool:
    return bool(_SELFTRIGGER.search(fold(text)))


FOLLOW_UP = timedelta(minutes=10)  # a message this soon after a question may be a fragment of it
REMEMBERED = 10_000  # conversations remembered at most (least recently used forgotten first)

_lock = threading.Lock()
_last: OrderedDict[tuple[str, str, str], tuple[str, datetime]] = OrderedDict()


def _previous(ctx: Context, question: str) -> str | None:
    """The question this user asked in this chat within :data:`FOLLOW_UP`; ``question`` becomes it."""
    key, now = (ctx.platform, ctx.chat_id, ctx.user_id), ctx.relay.clock()
    with _lock:
        before = _last.pop(key, None)
        _last[key] = (question, now)
        while len(_last) > REMEMBERED:
            _last.popitem(last=False)
    if before is None or not timedelta(0) <= now - before[1] <= FOLLOW_UP:
        return None
    return before[0]


def live(ctx: Context) -> list[dict[str, Any]]:
    return as_live(ctx.relay.store.open_alerts())


def ask(ctx: Context, args: str) -> Reply:
    question = args.strip()
    if not question:
        raise UserError(
            "Posez votre question après la commande, par exemple : ask délai de réintégration Delta X ?",
            "Type your question after the command, e.g.: ask reintegration deadline for Delta X?",
        )
    if len(question) > MAX_QUESTION:
        raise UserError(
            f"Question trop longue ({len(question)} caractères) : {MAX_QUESTION} au plus, s'il vous plaît.",
            f"Question too long ({len(question)} characters): {MAX_QUESTION} at most, please.",
        )
    result = answer(question, live=live(ctx), previous=_previous(ctx, question))
    release_freed_memory()  # the long-running process keeps no question's garbage
    parts: list[str | Span] = [result.text]
    if result.sources:
        en = result.lang == "en"
        parts += ["\n\n", b("Sources" if en else "Sources :"), "\n" if en else "\n"]
        parts += [f"• {s.ref} — {s.heading}\n" for s in result.sources]
    else:
        parts += [
            "\n\n",
            i(
                "No passage of the fiches answers this."
                if result.lang == "en"
                else "Aucun passage des fiches ne répond à cette question."
            ),
        ]
    # "Puis-je auto-déclencher ?": the cited answer first, the guided check offered under it
    buttons = [[selftrigger.offer(ctx, question, result.lang)]] if mentions_selftrigger(question) else []
    return reply(*parts, buttons=buttons)
