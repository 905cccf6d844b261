"""A message as the page or feed shows it, before it is understood: the seam between the readers
(``html.py``, ``feed.py``) and the one item builder (``items.py``).

A reader knows markup and nothing of the SAU's vocabulary beyond telling a title from its text;
the builder knows the vocabulary and nothing of markup. ``where`` says, for ``poll --explain``,
which element the title was read from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(slots=True)
class Message:
    title: str
    body: str  # the message's own text, lines joined by "\n"; nested messages are not in it
    where: str  # the title's element, e.g. "h3 > button.fr-accordion__btn"
    labels: list[str] = field(default_factory=list)  # badges and tags: "Alerte rouge", "Noire"
    parent: int | None = None  # index of the message this one is nested in
    time_attr: datetime | None = None  # a <time datetime> inside the message
    date_before: datetime | None = None  # a date written just before the title, or in its table row
    feed_published: datetime | None = None  # a feed entry's <pubDate>/<published>
    feed_updated: datetime | None = None  # a feed entry's <updated>
