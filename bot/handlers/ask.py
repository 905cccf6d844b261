"""``ask QUESTION`` and plain messages: the answer engine, with its citation and the live alerts.

The open alerts of the store are passed as ``live`` so an answer about a téléservice that is down
starts by saying so. A question about self-triggering ("puis-je auto-déclencher ?", "can I
self-trigger?") starts the guided check of :mod:`bot.handlers.selftrigger` instead.
"""

from __future__ import annotations

import re
from typing import Any

from knowledge.answers import answer
from knowledge.services import fold

from . import selftrigger
from .common import MAX_QUESTION, UserError
from .replies import Button, Context, Reply, Span, b, i, reply

_SELFTRIGGER = re.compile(r"AUTO ?DECLENCH|SELF ?TRIGGER")
_MAY = re.compile(
    r"\b(?:PUIS|PEUX|PEUT|PEUVENT|POUVONS|POUVEZ|DOIS|DOIT|DROIT|AUTORISE|CAN|MAY|SHOULD|ALLOWED|"
    r"ENTITLED|AM I|EST CE QUE)\b"
)


def mentions_selftrigger(text: str) -> bool:
    return bool(_SELFTRIGGER.search(fold(text)))


def wants_selftrigger(text: str) -> bool:
    """ "Puis-je auto-déclencher ?", "can I self-trigger for Delta G?", or just "auto-déclenchement"."""
    folded = fold(text)
    return bool(_SELFTRIGGER.search(folded)) and (len(folded) <= 40 or bool(_MAY.search(folded)))


def live(ctx: Context) -> list[dict[str, Any]]:
    return [
        {
            "services": a.services,
            "modes": a.modes,
            "level": a.level,
            "published_at": a.published_at,
            "title": a.title,
        }
        for a in ctx.relay.store.open_alerts()
    ]


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
    if wants_selftrigger(question):
        return selftrigger.start(ctx, question)
    result = answer(question, live=live(ctx))
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
    buttons = []
    if mentions_selftrigger(question):
        buttons = [
            [
                Button(
                    "Self-trigger check" if result.lang == "en" else "Vérifier si je peux auto-déclencher",
                    "st:",
                )
            ]
        ]
    return reply(*parts, buttons=buttons)
