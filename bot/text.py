"""Any text a person typed (a client's name, a chat's reply) made safe to print on a terminal.

Apart from :mod:`bot.output` (which renders events and imports the renderer) so that a command
that only prints names, such as ``subscribers add``, loads nothing more to print them.
"""

from __future__ import annotations

import re

__all__ = ["printable"]

#: Control characters (C0, C1: escape sequences), line and paragraph separators, zero-width and
#: bidirectional controls: what could move the cursor, recolour a terminal or reverse a line.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def printable(text: str | None) -> str:
    """``text`` with every control character shown escaped (``\\x1b``, ``\\u202e``), for a terminal."""
    if not text:
        return ""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
