"""Cutting a section down to the part that answers the question.

A section is split into blocks (paragraphs and list items; a short list stays with the sentence
introducing it). Each block scores the summed weight
of the question's words it contains (the opening block, which usually states the rule, scores a
little even when it matches nothing); the best blocks are kept, in document order, within a
character budget, with the lead-in sentence of a list ("… dans deux cas :") kept with its items
and "[…]" marking what was left out. A section that fits the budget is returned whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

ELLIPSIS = "[…]"
LEAD_SCORE = 1e-3  # the opening block ranks above blocks that match nothing, below those that do
SHORT_LEAD = 0.25  # ...and, if no longer than this share of the budget, right after the best block


def blocks(body: str, merge_up_to: int = 600) -> list[str]:
    """Paragraphs and list items; a short list stays one block with the sentence introducing it."""
    out: list[str] = []
    for para in body.split("\n\n"):
        lines = [ln.strip() for ln in para.strip().splitlines() if ln.strip()]
        if not lines:
            continue
        if not all(ln.startswith("- ") for ln in lines):
            out.append(" ".join(lines))
        elif out and out[-1].endswith(":") and len(out[-1]) + sum(len(ln) + 1 for ln in lines) <= merge_up_to:
            out[-1] = "\n".join([out[-1], *lines])
        else:
            out.extend(lines)
    return out


SHORT_LEAD_IN = 90  # characters: a line this short right before a list introduces it


def _lead_in(items: Sequence[str], i: int) -> int | None:
    """The paragraph introducing list item ``i``: the last non-item before it, when it ends with
    ':' or is a short line (the official layout often drops the colon: "Le bureau de douane
    instruit la demande de l'opérateur" then what it does, item by item)."""
    j = i - 1
    while j >= 0 and items[j].startswith("- "):
        j -= 1
    if j < 0:
        return None
    lead = items[j].rstrip()
    return j if lead.endswith(":") or len(lead) <= SHORT_LEAD_IN else None


def render(items: Sequence[str], keep: set[int]) -> str:
    """The kept blocks in document order, "[…]" where blocks were left out between them."""
    out: list[str] = []
    prev: int | None = None
    for i in sorted(keep):
        if prev is not None and i > prev + 1:
            out.append(ELLIPSIS)
        out.append(items[i])
        prev = i
    return "\n".join(out)


def trim(
    body: str, score: Callable[[str], float], budget: int, skip: Callable[[str], bool] | None = None
) -> str:
    """The blocks of ``body`` that best answer, in order, within ``budget`` characters.

    Blocks for which ``skip`` is true (quoted already, above the passage) are left out, and "[…]"
    marks where they were.
    """
    items = blocks(body)
    candidates = [i for i, item in enumerate(items) if skip is None or not skip(item)]
    if not candidates:
        return ""
    if sum(len(items[i]) + 1 for i in candidates) - 1 <= budget:
        return render(items, set(candidates))
    scores = [score(item) for item in items]
    # The opening block usually states the rule the rest details ("sélectionner le bouton
    # inscription"): kept, room permitting, even when it shares no word with the question.
    first = candidates[0]
    scores[first] = max(scores[first], LEAD_SCORE)
    ranked = sorted(candidates, key=lambda i: (-scores[i], i))
    if len(items[first]) <= budget * SHORT_LEAD and ranked[0] != first:
        # a short opening block goes right after the best one: it is the step's first action
        ranked.remove(first)
        ranked.insert(1, first)
    keep: set[int] = set()
    used = 0
    for n, i in enumerate(ranked):
        if n > 0 and scores[i] <= 0:
            break
        group = {i}
        lead = _lead_in(items, i) if items[i].startswith("- ") else None
        if lead is not None and lead in candidates:
            group.add(lead)
        cost = sum(len(items[j]) + 1 for j in group - keep)
        if used + cost > budget:
            if n == 0:  # the best block alone is too long: cut it at a sentence end
                return _cut(items[i], budget)
            # a long block that holds a relevant sentence gives that sentence rather than nothing:
            # the sentence that answers is never the one left out for want of room
            short = _best_sentence_of(items[i], score)
            quoted = short is not None and skip is not None and skip(short)
            if short is None or quoted or i in keep or used + len(short) + 1 > budget:
                continue
            items = [*items[:i], short, *items[i + 1 :]]
            group, cost = {i}, len(short) + 1
        keep |= group
        used += cost
    return render(items, keep)


def _best_sentence_of(block: str, score: Callable[[str], float]) -> str | None:
    """The block cut down to its most relevant sentence ("[…]" for the rest), or None if it has
    only one sentence or none relevant."""
    pieces = sentences(block)
    if len(pieces) < 2:
        return None
    best = max(pieces, key=lambda piece: score(piece[0]))[0]
    if score(best) <= 0:
        return None
    marker = "- " if block.startswith("- ") else ""
    before = "" if block.removeprefix("- ").startswith(best) else f"{ELLIPSIS} "
    after = "" if block.rstrip().endswith(best) else f" {ELLIPSIS}"
    return f"{marker}{before}{best}{after}"


def _cut(text: str, budget: int) -> str:
    cut = text[: budget - len(ELLIPSIS) - 1]
    end = max(cut.rfind(". "), cut.rfind(" ; "), cut.rfind(", "))
    return (cut[: end + 1] if end > budget // 2 else cut).rstrip() + " " + ELLIPSIS


_SENTENCE_END = re.compile(r"(?<=[.;!?])\s+(?=[A-ZÀ-Ý«\d])")


def _joined(lines: Sequence[str]) -> list[str]:
    """The body's lines, stripped, a non-item line ending with a comma joined to the next one."""
    out: list[str] = []
    for raw in lines:
        line = raw.strip()
        if (
            out
            and out[-1].endswith(",")
            and not out[-1].startswith("- ")
            and line
            and not line.startswith("- ")
        ):
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
    return out


def sentences(body: str) -> list[tuple[str, bool]]:
    """The sentences of a section, each with whether it is a list item (marker removed).

    A line that ends with a comma and is not a list item goes on at the next line: a signature
    ("Le chef de bureau," then the name) is one sentence, not a title and a name quoted apart.
    """
    out = []
    for line in _joined(body.splitlines()):
        item = line.startswith("- ")
        for piece in _SENTENCE_END.split(line.removeprefix("- ")):
            if len(piece.strip()) > 3:
                out.append((piece.strip(), item))
    return out


MAX_ITEMS_WITH_LEAD = 2  # "… dans deux cas :" is quoted with at most this many of its items


def key_sentence(body: str, score: Callable[[str], float]) -> str:
    """The sentence of ``body`` that best answers (the first one on a tie), quoted whole.

    A sentence introducing a list ("En case 44 du DAU E/S :") comes with its first items.
    """
    items = sentences(body)
    if not items:
        return body.strip()
    best = max(range(len(items)), key=lambda i: (score(items[i][0]), -i))
    chosen = [items[best][0]]
    if chosen[0].endswith(":"):
        follow = items[best + 1 : best + 1 + MAX_ITEMS_WITH_LEAD]
        chosen += [text for text, item in follow if item]
    return " ".join(chosen)
